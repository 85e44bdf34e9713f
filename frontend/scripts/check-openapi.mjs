// Checks an OpenAPI document with independent validators: node scripts/check-openapi.mjs FILE
// 1. the OpenAPI JSON Schema of the version the document declares (@seriousme/openapi-schema-validator);
// 2. for 3.1, every Schema Object against JSON Schema 2020-12's meta-schema (ajv), which OpenAPI's own schema leaves
//    unchecked (it accepts any object as a Schema Object);
// 3. every local $ref points at something in the document.
// Prints each error and exits 1 when there is any.
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";

const file = process.argv[2];
if (!file) {
  console.error("usage: node scripts/check-openapi.mjs FILE");
  process.exit(2);
}
const document = JSON.parse(readFileSync(file, "utf8"));
const errors = [];

const openapi = new Validator();
const result = await openapi.validate(document);
if (!result.valid) {
  for (const e of [].concat(result.errors ?? [])) errors.push(`OpenAPI ${openapi.version}: ${e.instancePath || "/"} ${e.message ?? JSON.stringify(e)}`);
}

/** Every [pointer, key, value] of the document's objects, depth first. */
function* entries(node, pointer = "") {
  if (node === null || typeof node !== "object") return;
  for (const [key, value] of Object.entries(node)) {
    const here = `${pointer}/${String(key).replaceAll("~", "~0").replaceAll("/", "~1")}`;
    yield [here, key, value];
    yield* entries(value, here);
  }
}

if (String(document.openapi).startsWith("3.1")) {
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  // Components' schemas, and each `schema` of a path (nested ones are checked with the schema that holds them).
  const schemas = [
    ...Object.entries(document.components?.schemas ?? {}).map(([name, s]) => [`/components/schemas/${name}`, s]),
    ...[...entries(document.paths ?? {}, "/paths")].filter(([, key, value]) => key === "schema" && value && typeof value === "object")
      .map(([pointer, , value]) => [pointer, value]),
  ];
  for (const [pointer, schema] of schemas) {
    if (!ajv.validateSchema(schema)) {
      for (const e of ajv.errors) errors.push(`JSON Schema 2020-12: ${pointer}${e.instancePath} ${e.message}`);
    }
  }
}

function resolves(ref) {
  let node = document;
  for (const part of ref.slice(2).split("/")) {
    const key = decodeURIComponent(part).replaceAll("~1", "/").replaceAll("~0", "~");
    if (node === null || typeof node !== "object" || !(key in node)) return false;
    node = node[key];
  }
  return true;
}

for (const [pointer, key, value] of entries(document)) {
  if (key === "$ref" && typeof value === "string" && value.startsWith("#/") && !resolves(value)) errors.push(`$ref: ${pointer} points at nothing: ${value}`);
}

for (const e of errors) console.log(e);
console.log(errors.length ? `${errors.length} errors` : `valid OpenAPI ${document.openapi}`);
process.exit(errors.length ? 1 : 0);
