/**
 * `docker inspect -f/--format`: objects as an indented JSON array (no format), a compact
 * one (`json`), or a Go template run over each object with docker's inspect semantics
 * (typed first, then `missingkey=error`: `map has no entry for key "Foo"`).
 */
import { inspectJson, inspectJsonCompact } from "./inspect-json.js";
import { parseFormat, TemplateFormatError } from "./template-format.js";

/** What {@link renderInspect} produced: the output, and per object the error it failed with. */
export interface InspectOutput {
  text: string;
  /** Aligned with the objects: the template's error for each one that failed. */
  errors: (Error | undefined)[];
}

/**
 * Render inspected objects (plain JSON values) as docker's `inspect` prints them.
 * @throws TemplateFormatError when the template does not parse (nothing is printed then).
 */
export async function renderInspect(docs: readonly unknown[], format = ""): Promise<InspectOutput> {
  const none = docs.map(() => undefined);
  if (format === "") return { text: inspectJson(docs), errors: none };
  if (format === "json") return { text: inspectJsonCompact(docs), errors: none };
  const { executeInspectTemplate, GoTemplateError } = await import("@strata/core");
  const tmpl = await parseFormat(format);
  let text = "";
  const errors: (Error | undefined)[] = [];
  for (const doc of docs) {
    try {
      text += `${executeInspectTemplate(tmpl, doc)}\n`;
      errors.push(undefined);
    } catch (err) {
      if (!(err instanceof GoTemplateError)) throw err;
      errors.push(new TemplateFormatError(err.message, { cause: err }));
    }
  }
  // docker's TemplateInspector prints an empty line when nothing else was printed.
  return { text: text === "" ? "\n" : text, errors };
}
