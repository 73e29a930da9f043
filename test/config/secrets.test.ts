import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { configSecrets } from "../../src/config/secrets.ts";
import { ConfigSchema } from "../../src/config/schema.ts";

describe("configSecrets: what the log scrubs and what makes the config file private", () => {
  test("tokens, MCP headers and env, and the API keys behind apiKeyEnv; short values are not secrets", () => {
    const config = v.parse(ConfigSchema, {
      gateway: { token: "gateway-token-123" },
      agent: {
        transcribe: { baseUrl: "https://stt.example/v1", apiKeyEnv: "STT_KEY" },
        mcp: { servers: { notes: { url: "https://mcp.example/mcp", headers: { Authorization: "Bearer mcp-secret-456", "X-Short": "1" } }, fs: { command: ["x"], env: { GITHUB_TOKEN: "ghp_abcdefgh" } } } },
      },
    });
    const env = { OPENAI_API_KEY: "sk-openai-789", STT_KEY: "stt-key-000" };
    expect(configSecrets(config, env).sort()).toEqual(["Bearer mcp-secret-456", "gateway-token-123", "ghp_abcdefgh", "sk-openai-789", "stt-key-000"].sort());
    // Without the environment: only what the file itself holds (doctor's rule for its mode).
    expect(configSecrets(config).sort()).toEqual(["Bearer mcp-secret-456", "gateway-token-123", "ghp_abcdefgh"].sort());
  });
});
