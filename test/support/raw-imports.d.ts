// Vite's `?raw` imports (a file's text), as the worker tests use them for docs.
declare module "*?raw" {
  const text: string;
  export default text;
}
