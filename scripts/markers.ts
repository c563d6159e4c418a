/**
 * A generated part of a hand-written page: the text between `<!-- <name>:start -->` and `<!-- <name>:end -->` is
 * replaced, everything around it is kept (other sections of the page are written by hand).
 */
export function withMarkedSection(markdown: string, name: string, content: string, file: string): string {
  const startMarker = `<!-- ${name}:start -->`;
  const endMarker = `<!-- ${name}:end -->`;
  const start = markdown.indexOf(startMarker);
  const end = markdown.indexOf(endMarker);
  if (start < 0 || end < start) throw new Error(`${file}: markers ${startMarker} … ${endMarker} not found`);
  return `${markdown.slice(0, start + startMarker.length)}\n\n${content}\n${markdown.slice(end)}`;
}
