import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TerraformStack, Testing } from "cdktf";
import { HcloudProvider } from "../.gen/providers/hcloud/provider";
import { Server } from "../.gen/providers/hcloud/server";
import {
  generateHcloudBindings,
  satisfiesConstraint,
} from "../scripts/gen-hcloud";

const VENDORED_SCHEMA_PATH = path.join(__dirname, 'fixtures/provider-schemas/hcloud.schema.json');

const COMMITTED_GEN = path.resolve(__dirname, "../.gen");

/** Relative paths of every file under `dir`, sorted so listings compare stably. */
function listFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((rel) => fs.statSync(path.join(dir, rel)).isFile())
    .sort();
}

describe("generated hcloud bindings", () => {
  it("synthesize a pinned provider and a server with its nested blocks", () => {
    const stack = new TerraformStack(Testing.app(), "hcloud-bindings");
    new HcloudProvider(stack, "hcloud", { token: "not-a-real-token" });
    new Server(stack, "web", {
      name: "web-1",
      serverType: "cx22",
      image: "ubuntu-24.04",
      location: "fsn1",
      publicNet: [{ ipv4Enabled: true, ipv6Enabled: false }],
    });

    const synth = JSON.parse(Testing.synth(stack));

    expect(synth.terraform.required_providers.hcloud).toEqual({
      source: "hetznercloud/hcloud",
      version: expect.stringContaining("1.68.0"),
    });
    expect(synth.provider.hcloud).toEqual([{ token: "not-a-real-token" }]);
    expect(synth.resource.hcloud_server.web).toMatchObject({
      name: "web-1",
      server_type: "cx22",
      image: "ubuntu-24.04",
      location: "fsn1",
      public_net: [{ ipv4_enabled: true, ipv6_enabled: false }],
    });
  });

  it("regenerate byte-identically to the committed .gen output", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gen-hcloud-test-"));
    try {
      // A committed copy of the shared schema: tests never need ../shared.
      await generateHcloudBindings({ schemaPath: VENDORED_SCHEMA_PATH, outDir: tmp });

      const committed = listFiles(COMMITTED_GEN);
      expect(listFiles(tmp)).toEqual(committed);
      expect(committed).toContain(path.join("providers", "hcloud", "server", "index.ts"));
      const differing = committed.filter(
        (rel) => !fs.readFileSync(path.join(tmp, rel)).equals(fs.readFileSync(path.join(COMMITTED_GEN, rel))),
      );
      // Non-empty means .gen is stale: run `npm run gen:hcloud` and commit the result.
      expect(differing).toEqual([]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("fail with a clear message when the schema is missing", async () => {
    await expect(
      generateHcloudBindings({ schemaPath: "/nonexistent/hcloud.schema.json", outDir: os.tmpdir() }),
    ).rejects.toThrow("provider schema not found: /nonexistent/hcloud.schema.json");
  });

  it("check the schema version against the cdktf.json constraint", () => {
    expect(satisfiesConstraint("1.68.0", "~> 1.68.0")).toBe(true);
    expect(satisfiesConstraint("1.68.7", "~> 1.68.0")).toBe(true);
    expect(satisfiesConstraint("1.69.0", "~> 1.68.0")).toBe(false);
    expect(satisfiesConstraint("1.69.0", "~> 1.68")).toBe(true);
    expect(satisfiesConstraint("2.0.0", "~> 1.68")).toBe(false);
    expect(satisfiesConstraint("1.68.0", "1.68.0")).toBe(true);
    expect(satisfiesConstraint("1.68.1", ">= 1.60, < 1.68.1")).toBe(false);
  });
});
