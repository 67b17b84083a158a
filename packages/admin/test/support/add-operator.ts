/**
 * One process of the concurrent-store test: opens the store at argv[2] (migrating it if it is new)
 * and adds operator argv[3], as `mef admin add-user --operator` does. Prints `added NAME`.
 */
import { addUser, openStore } from '../../src/index.js';

const [database, name] = process.argv.slice(2);
if (!database || !name) throw new Error('usage: add-operator.ts DATABASE NAME');
const store = await openStore(database);
try {
  await addUser(store, { name, password: `${name}-secret-pass`, operator: true });
  process.stdout.write(`added ${name}\n`);
} finally {
  await store.close();
}
