import { describeServiceKills } from '../service-kills.js';

// Long variant: every kill repeated TRESOR_KILL_ROUNDS times (default 5) on one cluster.
describeServiceKills(Number(process.env.TRESOR_KILL_ROUNDS ?? 5));
