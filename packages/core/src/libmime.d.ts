declare module 'libmime' {
  interface LibMime {
    decodeWords(str: string): string;
    parseHeaderValue(str: string): { value: string; params: Record<string, string> };
    decodeFlowed(str: string, delSp?: boolean): string;
  }
  const libmime: LibMime;
  export default libmime;
}
