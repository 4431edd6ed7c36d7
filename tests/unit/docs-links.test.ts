// The repository's documents must stand on their own in a clone: no file may point at the design documents
// that once lived beside the repository, every relative link of a Markdown file must lead to a file (and a
// heading) that exists, and every `docs/….md` a comment cites must exist. Reads files only.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Folders whose files are someone else's words: third-party code and verbatim AWS event shapes. */
const FOREIGN_FOLDERS = ["node_modules/", "tests/fixtures/"];

/** Files git knows or would add (tracked, or new and not ignored), relative to the repository root. */
function repositoryFiles(): string[] {
  const listing = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: REPOSITORY_ROOT,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return listing
    .split("\0")
    .filter((path) => path !== "" && !FOREIGN_FOLDERS.some((folder) => path.startsWith(folder)))
    .filter((path) => existsSync(join(REPOSITORY_ROOT, path)));
}

/** The text of a file, or undefined for a binary one (it holds a NUL byte). */
function textOf(path: string): string | undefined {
  const bytes = readFileSync(join(REPOSITORY_ROOT, path));
  return bytes.includes(0) ? undefined : bytes.toString("utf8");
}

// Spelt in parts, so that this file does not name them itself.
const OUTSIDE_REFERENCES = [
  ["..", "shared"].join("/"),
  ...["API", "DESIGN", "STYLE"].map((name) => `${name}.md`),
];

/** Text with fenced code blocks and inline code spans blanked out, line numbers kept. */
function proseOf(markdown: string): string {
  return markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (block) => block.replace(/[^\n]/g, " "))
    .replace(/`[^`\n]*`/g, (span) => " ".repeat(span.length));
}

/** The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens. */
function slugOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors of a Markdown file's headings, with GitHub's -1, -2 … for repeated ones. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of proseOf(markdown).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    // The heading's own text, inline code included (proseOf blanked it only to find the headings).
    const line = markdown.slice(match.index, match.index + match[0].length);
    const text = line.replace(/^#{1,6}[ \t]+/, "").replace(/[ \t#]*$/, "");
    const slug = slugOf(text);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Why a link from `fromPath` to `target` leads nowhere, or undefined when it leads somewhere. */
function brokenLink(fromPath: string, target: string): string | undefined {
  const [pathPart = "", fragment] = target.split("#", 2);
  const path = decodeURIComponent(pathPart);
  const destination =
    path === ""
      ? fromPath
      : normalize(relative(REPOSITORY_ROOT, resolve(REPOSITORY_ROOT, dirname(fromPath), path)));
  if (destination.startsWith("..")) return "leaves the repository";
  const absolute = join(REPOSITORY_ROOT, destination);
  if (!existsSync(absolute)) return "no such file";
  if (fragment === undefined || fragment === "") return undefined;
  if (!destination.endsWith(".md") || statSync(absolute).isDirectory())
    return "an anchor into a non-Markdown file";
  return anchorsOf(readFileSync(absolute, "utf8")).has(fragment) ? undefined : `no heading #${fragment}`;
}

const files = repositoryFiles();
const markdownFiles = files.filter((path) => path.endsWith(".md"));

describe("the documents stand on their own in a clone", () => {
  it("finds the repository's files and its documents", () => {
    expect(files).toContain("README.md");
    expect(markdownFiles).toEqual(
      expect.arrayContaining(["docs/architecture.md", "docs/api.md", "docs/decisions.md", "docs/runbook.md"]),
    );
  });

  it("no file points at the design documents or fixtures that lived outside the repository", () => {
    const references: string[] = [];
    for (const path of files) {
      const text = textOf(path);
      if (text === undefined) continue;
      text.split("\n").forEach((line, index) => {
        for (const reference of OUTSIDE_REFERENCES) {
          if (line.includes(reference)) references.push(`${path}:${index + 1}: ${reference}`);
        }
      });
    }
    expect(references).toEqual([]);
  });

  it("every relative link of a Markdown file leads to a file, and every anchor to a heading", () => {
    const broken: string[] = [];
    let links = 0;
    for (const path of markdownFiles) {
      const prose = proseOf(readFileSync(join(REPOSITORY_ROOT, path), "utf8"));
      for (const match of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
        const target = match[1] ?? "";
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        links++;
        const reason = brokenLink(path, target);
        if (reason !== undefined) broken.push(`${path}: (${target}) ${reason}`);
      }
    }
    expect(links, "the check found links to check").toBeGreaterThan(10);
    expect(broken).toEqual([]);
  });

  it("every docs/….md that any file cites exists, with the heading it names", () => {
    const broken: string[] = [];
    let citations = 0;
    for (const path of files) {
      const text = textOf(path);
      if (text === undefined) continue;
      for (const match of text.matchAll(/(?<![\w/.-])docs\/([\w-]+\.md)(#[\w-]+)?/g)) {
        citations++;
        const target = `docs/${match[1]}${match[2] ?? ""}`;
        const reason = brokenLink("README.md", target);
        if (reason !== undefined) broken.push(`${path}: ${target} ${reason}`);
      }
    }
    expect(citations, "the check found citations to check").toBeGreaterThan(0);
    expect(broken).toEqual([]);
  });

  it("names a heading's anchor as GitHub does", () => {
    expect(slugOf("Layout and boundaries")).toBe("layout-and-boundaries");
    expect(slugOf("`GET /number/verify`")).toBe("get-numberverify");
    expect(slugOf("I3")).toBe("i3");
    expect(slugOf("Group commit in process, and why it does nothing on Lambda")).toBe(
      "group-commit-in-process-and-why-it-does-nothing-on-lambda",
    );
    expect(slugOf("Where AWS differs from DynamoDB Local")).toBe("where-aws-differs-from-dynamodb-local");
  });
});
