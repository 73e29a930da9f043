import { expect, test } from "bun:test";
import { uuidV5 } from "../../src/core/uuid.ts";

test("uuidV5 matches RFC 4122's construction (the DNS namespace's known vector) and is stable per name", () => {
  expect(uuidV5("www.example.com", "6ba7b810-9dad-11d1-80b4-00c04fd430c8")).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2");
  expect(uuidV5("telegram:42")).toBe(uuidV5("telegram:42"));
  expect(uuidV5("telegram:42")).not.toBe(uuidV5("telegram:43"));
  expect(uuidV5("telegram:42")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
