// Module hooks for import-each-alone.ts: a module imported as `file?alone=N` gets its own copy of
// every project module it reaches (each resolved with the same `?alone=N`), so each import
// evaluates the project's modules in the order that file alone causes. Packages under
// node_modules resolve as usual and are shared, which keeps the test fast.
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  const parent = context.parentURL?.startsWith("file:") ? new URL(context.parentURL) : null;
  const round = parent?.searchParams.get("alone");
  if (!round || !result.url.startsWith("file:") || result.url.includes("/node_modules/")) return result;
  const url = new URL(result.url);
  url.searchParams.set("alone", round);
  return { ...result, url: url.href };
}
