import { describe, expect, it } from "vitest";
import { goStructOf } from "./struct.js";
import {
  isTableFormat,
  renderFormat,
  TemplateFormatError,
  templateText,
} from "./template-format.js";

const header = { ID: "IMAGE ID", Repository: "REPOSITORY", Tag: "TAG" };
const rows = [
  goStructOf("*formatter.imageContext", {
    ID: "0123456789ab",
    Repository: "busybox",
    Tag: "latest",
  }),
  goStructOf("*formatter.imageContext", {
    ID: "ba9876543210",
    Repository: "localhost:5000/a/very-long-name",
    Tag: "1",
  }),
];

describe("docker's format kinds", () => {
  it("recognizes table formats and turns \\t and \\n into tabs and newlines", () => {
    expect(isTableFormat("table {{.ID}}")).toBe(true);
    expect(isTableFormat("{{.ID}} table")).toBe(false);
    expect(templateText("table   {{.ID}}\\t{{.Tag}}  ")).toBe("{{.ID}}\t{{.Tag}}");
    expect(templateText("json")).toBe("{{json .}}");
    expect(templateText("{{.ID}}\\n")).toBe("{{.ID}}\n");
  });

  it("renders a table with headers derived from the field names", async () => {
    const out = await renderFormat({
      format: "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}",
      rows,
      header,
    });
    expect(out).toBe(
      "REPOSITORY                        TAG       IMAGE ID\n" +
        "busybox                           latest    0123456789ab\n" +
        "localhost:5000/a/very-long-name   1         ba9876543210\n",
    );
  });

  it("keeps headers intact through docker's header functions", async () => {
    const out = await renderFormat({
      format: "table {{.Repository | upper}}\t{{lower .Tag}}",
      rows: rows.slice(0, 1),
      header,
    });
    expect(out).toBe("REPOSITORY   TAG\nBUSYBOX      latest\n");
  });

  it("prints only the header for a table without rows", async () => {
    expect(await renderFormat({ format: "table {{.ID}}\t{{.Tag}}", rows: [], header })).toBe(
      "IMAGE ID   TAG\n",
    );
  });

  it("prints one line per row for a plain template, and JSON lines for json", async () => {
    expect(await renderFormat({ format: "{{.ID}}: {{.Repository}}", rows, header })).toBe(
      "0123456789ab: busybox\nba9876543210: localhost:5000/a/very-long-name\n",
    );
    expect(await renderFormat({ format: "json", rows: rows.slice(0, 1), header })).toBe(
      '{"ID":"0123456789ab","Repository":"busybox","Tag":"latest"}\n',
    );
  });

  it("fails with docker's template parsing error", async () => {
    await expect(renderFormat({ format: "{{.ID", rows, header })).rejects.toThrow(
      new TemplateFormatError("template: :1: unclosed action"),
    );
    await expect(renderFormat({ format: "{{.Nope}}", rows, header })).rejects.toThrow(
      'template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.imageContext',
    );
  });
});
