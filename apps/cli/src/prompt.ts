import { password } from '@inquirer/prompts';

/** Asks for a secret on the terminal without echoing it. */
export async function askSecret(message: string): Promise<string> {
  return password({ message, mask: false }, { output: process.stderr });
}
