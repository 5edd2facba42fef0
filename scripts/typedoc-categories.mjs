// TypeDoc plugin (typedoc.json `plugin`): files each top-level export of the API docs under a
// category named after the folder that declares it — the same folders as the layer map in
// CONTRIBUTING.md — so a new export lands in the right group without a tag to forget. An
// explicit `@category` tag on a declaration wins.
import { Comment, CommentTag, Converter } from "typedoc";

/** Folder (or file) under src/ → category (typedoc.json `categoryOrder` orders them). */
const CATEGORIES = [
  ["api/", "Running pipelines"],
  ["runner/", "Running pipelines"],
  ["study/", "Studies"],
  ["pipeline/", "Pipelines"],
  ["tasks/", "Tasks"],
  ["args/", "Arguments"],
  ["config/", "Cluster config"],
  ["backends/", "Backends"],
  ["python/", "Backends"],
  ["store/", "Store"],
  ["results/", "Results"],
  ["ui/", "Dashboard"],
  ["manifest/", "Outputs manifest"],
  ["errors.ts", "Errors"],
];

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const reflection of context.project.children ?? []) {
      if (reflection.comment?.blockTags.some((tag) => tag.tag === "@category")) continue;
      const file = context.getSymbolFromReflection(reflection)?.declarations?.[0]?.getSourceFile().fileName ?? "";
      const inSrc = file.replace(/\\/g, "/").split("/src/").pop() ?? "";
      const category = CATEGORIES.find(([prefix]) => inSrc.startsWith(prefix))?.[1];
      if (!category) {
        app.logger.warn(`typedoc-categories: no category for ${reflection.name} (${file}); add its folder to scripts/typedoc-categories.mjs`);
        continue;
      }
      reflection.comment ??= new Comment();
      reflection.comment.blockTags.push(new CommentTag("@category", [{ kind: "text", text: category }]));
    }
  });
}
