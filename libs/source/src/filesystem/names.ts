const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

/** C0 controls, DEL and C1 controls: legal in POSIX names, but they corrupt terminals, logs and catalogs. */
function isControl(codePoint: number): boolean {
  return codePoint < 0x20 || (codePoint >= 0x7f && codePoint <= 0x9f);
}

/** Why a raw file name cannot be recorded, or undefined when it can. */
export function nameProblem(raw: Uint8Array): string | undefined {
  let name: string;
  try {
    name = strictUtf8.decode(raw);
  } catch {
    return 'is not valid UTF-8';
  }
  for (const char of name) {
    if (isControl(char.codePointAt(0)!)) return 'contains control characters';
  }
  return undefined;
}

/** The name as text, for names that passed `nameProblem`. */
export function decodeName(raw: Uint8Array): string {
  return strictUtf8.decode(raw);
}

/** A printable rendering of any raw name for messages (invalid bytes as U+FFFD, controls as \xNN). */
export function displayName(raw: Uint8Array): string {
  let shown = '';
  for (const char of lenientUtf8.decode(raw)) {
    const code = char.codePointAt(0)!;
    shown += isControl(code) || char === '\\' ? `\\x${code.toString(16).padStart(2, '0')}` : char;
  }
  return shown;
}
