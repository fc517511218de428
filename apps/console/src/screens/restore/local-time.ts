// <input type="datetime-local"> speaks the user's local wall-clock time without a zone; the API speaks ISO UTC.

const pad = (n: number) => String(n).padStart(2, '0');

/** ISO time → `YYYY-MM-DDTHH:mm:ss` in the user's zone. */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `YYYY-MM-DDTHH:mm[:ss]` in the user's zone → ISO UTC; null when incomplete or invalid. */
export function fromLocalInput(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
