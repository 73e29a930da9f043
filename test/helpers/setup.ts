// Preloaded by bun test (bunfig.toml): runs after every test file has finished.
import { afterAll } from "bun:test";
import { killSpawned } from "./gateway.ts";

afterAll(() => killSpawned());
