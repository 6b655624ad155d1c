import { hashPassword } from '@quarry/session';

// npm run users:hash -- <user>   reads the password from standard input and prints the line
// to put in the users file (QUARRY_AUTH=file, QUARRY_USERS_FILE).
async function main(): Promise<number> {
  const user = process.argv[2];
  if (!user || user.includes(':')) {
    console.error('usage: hash-password <user>   (the password comes from standard input)');
    return 2;
  }
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const password = input.replace(/\r?\n$/, '');
  if (!password) {
    console.error('no password on standard input');
    return 2;
  }
  console.log(`${user}:${await hashPassword(password)}`);
  return 0;
}

main().then((code) => process.exit(code));
