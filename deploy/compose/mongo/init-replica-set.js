// Initiates the replica set `rs0` once (mongosh --file, from the mongo-init service); on a later
// start the set already exists and this only waits for a primary.
const members = (process.env.MONGO_MEMBERS ?? 'mongo1:27017').split(',').map((host, _id) => ({ _id, host }));
try {
  rs.status();
  print('replica set rs0 already initiated');
} catch (e) {
  if (e.codeName !== 'NotYetInitialized') throw e;
  rs.initiate({ _id: 'rs0', members });
  print(`initiated replica set rs0 with ${members.map((m) => m.host).join(', ')}`);
}
for (let i = 0; i < 60 && !db.hello().isWritablePrimary && !db.hello().primary; i++) sleep(1000);
if (!db.hello().primary) throw new Error('replica set rs0 has no primary after 60 s');
print(`primary: ${db.hello().primary}`);
