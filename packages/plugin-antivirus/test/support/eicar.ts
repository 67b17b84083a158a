/**
 * The EICAR test string, assembled at run time so that no file of the repository holds it
 * (a scanner on a developer's machine would otherwise quarantine the test file).
 */
export function eicar(): Buffer {
  const head = ['X5O!P%@AP[4', '\\PZX54(P^)7CC)7}$'].join('');
  const tail = ['EICAR-STANDARD-', 'ANTIVIRUS-TEST-FILE!', '$H+H*'].join('');
  return Buffer.from(head + tail, 'latin1');
}
