/** Asks for a secret on the terminal without echoing it. */
export async function askSecret(message: string): Promise<string> {
  // Loaded on demand: most runs take the passphrase from the environment or a file.
  const { password } = await import('@inquirer/prompts');
  return password({ message, mask: false }, { output: process.stderr });
}
