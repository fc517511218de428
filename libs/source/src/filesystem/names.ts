/**
 * How the scan judges and renders raw file names, as the source of a CommonJS block for the scan
 * thread (scan-thread.ts), which decodes every name off the main thread. A leading U+FEFF is
 * part of a name (ignoreBOM), not a byte-order mark to drop. It defines:
 * - `nameProblem(raw)`: why a raw name cannot be recorded (not UTF-8, C0/DEL/C1 controls: legal in
 *   POSIX names, but they corrupt terminals, logs and catalogs), or undefined when it can;
 * - `decodeName(raw)`: the name as text, for names that passed nameProblem;
 * - `displayName(raw)`: a printable rendering of any raw name for messages (invalid bytes as
 *   U+FFFD, controls and backslashes as \xNN).
 */
export const NAMES_SOURCE = String.raw`
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });
function isControl(codePoint) {
  return codePoint < 0x20 || (codePoint >= 0x7f && codePoint <= 0x9f);
}
function nameProblem(raw) {
  let name;
  try {
    name = strictUtf8.decode(raw);
  } catch {
    return 'is not valid UTF-8';
  }
  for (const char of name) {
    if (isControl(char.codePointAt(0))) return 'contains control characters';
  }
  return undefined;
}
function decodeName(raw) {
  return strictUtf8.decode(raw);
}
function displayName(raw) {
  let shown = '';
  for (const char of lenientUtf8.decode(raw)) {
    const code = char.codePointAt(0);
    shown += isControl(code) || char === '\\' ? '\\x' + code.toString(16).padStart(2, '0') : char;
  }
  return shown;
}
`;
