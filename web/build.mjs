// Copies the pinned htmx build and its SSE extension from node_modules into
// static/vendor, where the Go binary embeds them. The copies are committed;
// web/test.sh fails when this build would change them.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = [
  ['node_modules/htmx.org/dist/htmx.min.js', 'static/vendor/htmx.min.js'],
  ['node_modules/htmx.org/dist/ext/hx-sse.min.js', 'static/vendor/hx-sse.min.js'],
];

const pkg = JSON.parse(readFileSync(join(root, 'node_modules/htmx.org/package.json'), 'utf8'));
const want = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies['htmx.org'];
if (pkg.version !== want) {
  console.error(`node_modules has htmx.org ${pkg.version}, package.json pins ${want}: run npm ci`);
  process.exit(1);
}

mkdirSync(join(root, 'static/vendor'), { recursive: true });
for (const [from, to] of files) {
  copyFileSync(join(root, from), join(root, to));
  console.log(`${relative(root, join(root, from))} -> ${to}`);
}
