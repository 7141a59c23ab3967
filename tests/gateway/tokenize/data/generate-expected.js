// Writes expected.json: the token ids of the reference tokenizer for the corpus files,
// snippets.json and a fixed-seed set of generated strings. Run once, outside the repo
// (nothing here is part of the build or of CI):
//   cd "$(mktemp -d)" && npm init -y && npm install tiktoken@1.0.22 gpt-tokenizer@4.0.0
//   cp <repo>/tests/gateway/tokenize/data/generate-expected.js . && node generate-expected.js <repo>/tests/gateway/tokenize/data
// The reference is tiktoken (WASM build of openai/tiktoken), encode_ordinary; gpt-tokenizer
// is a second, independent implementation used only as a cross-check.
const fs = require("fs");
const path = require("path");
const { get_encoding } = require("tiktoken");
const gtCl = require("gpt-tokenizer/encoding/cl100k_base");
const gtO = require("gpt-tokenizer/encoding/o200k_base");
const dataDir = process.argv[2];
const encs = { cl100k_base: get_encoding("cl100k_base"), o200k_base: get_encoding("o200k_base") };
const cross = { cl100k_base: gtCl, o200k_base: gtO };
const dec = new TextDecoder("utf-8", { fatal: true });
let mismatches = 0;
function ids(text) {
  const out = {};
  for (const [name, enc] of Object.entries(encs)) {
    out[name] = Array.from(enc.encode_ordinary(text));
    const other = cross[name].encode(text, { disallowedSpecial: new Set(), allowedSpecial: new Set() });
    if (JSON.stringify(other) !== JSON.stringify(out[name])) { mismatches++; console.error("cross-check differs:", name, JSON.stringify(text).slice(0, 60)); }
  }
  return out;
}
// Non-ASCII escaped: a raw U+FEFF inside a JSON string is dropped by some parsers.
const asciiJson = (v) => JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));

const corpusDir = path.join(dataDir, "corpus");
const files = fs.readdirSync(corpusDir).filter((f) => f.endsWith(".txt")).sort();
const result = { generator: "tiktoken 1.0.22 (npm, WASM build of openai/tiktoken), encode_ordinary", files: {}, snippets: [], generated: [] };
for (const f of files) {
  const text = dec.decode(fs.readFileSync(path.join(corpusDir, f)));
  result.files[f] = ids(text);
}
for (const s of JSON.parse(fs.readFileSync(path.join(dataDir, "snippets.json"), "utf8"))) {
  result.snippets.push({ text: s, ...ids(s) });
}

// Generated strings: a fixed-seed PRNG draws characters from pools that exercise every
// branch of the split patterns (cases, marks, Lm/Lo, numbers of all kinds, odd whitespace,
// apostrophes before contraction letters, punctuation before '/' and newlines).
function mulberry32(a) {
  return function () {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(20240610);
const pools = [
  "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", "      ", "\t\n\r", "'''", "sStTrReEvVmMlLdD",
  "!.,;:/-()[]{}<>\"#$%&*+=?@^_`|~\\", "éèêëàâäôöùûüçñßÉÀÖÜÑ", "\u0300\u0301\u0308\u0327\u0303\u20dd",
  "中文字符漢字日本語", "한국어문장", "ひらがなカタカナー", "АБВГДабвгдЖжЯя", "ΑΒΓαβγΣσς", "العربيةمرحبا", "हिन्दीनमस्ते",
  "\u00a0\u2000\u2009\u3000\u2028\u2029\u0085\u000b\u000c", "²³¹½¾ⅠⅡⅫ٣٤੩", "ǅǈǋᾈ", "ʰʲʷˈˌªº", "\u017f", "\u200d\ufeff\u200b",
  "😀👍🏽🚀🇺🇸", "–—…“”‘’«»•·", "ＡＢＣａｂｃ１２３",
];
const chars = pools.map((p) => Array.from(p));
for (let i = 0; i < 400; i++) {
  const len = 1 + Math.floor(rnd() * 24);
  let s = "";
  let pool = chars[Math.floor(rnd() * chars.length)];
  for (let j = 0; j < len; j++) {
    if (rnd() < 0.35) pool = chars[Math.floor(rnd() * chars.length)];
    s += pool[Math.floor(rnd() * pool.length)];
  }
  result.generated.push({ text: s, ...ids(s) });
}

// One entry per line keeps diffs readable.
let out = "{\n" + `"generator": ${JSON.stringify(result.generator)},\n"files": {\n`;
out += files.map((f) => `${JSON.stringify(f)}: {\n"cl100k_base": ${JSON.stringify(result.files[f].cl100k_base)},\n"o200k_base": ${JSON.stringify(result.files[f].o200k_base)}}`).join(",\n");
out += "\n},\n\"snippets\": [\n" + result.snippets.map(asciiJson).join(",\n");
out += "\n],\n\"generated\": [\n" + result.generated.map(asciiJson).join(",\n");
out += "\n]\n}\n";
fs.writeFileSync(path.join(dataDir, "expected.json"), out);
console.log("files", files.length, "snippets", result.snippets.length, "generated", result.generated.length, "cross-check mismatches", mismatches);
for (const f of files) console.log(f, result.files[f].cl100k_base.length, result.files[f].o200k_base.length);
