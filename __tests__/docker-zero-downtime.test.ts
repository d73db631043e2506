/**
 * What the synthesized JSON guarantees about deploying a new image tag:
 * create-before-destroy under a new name, health-gated, with routing labels
 * that do not change between versions, and data containers out of reach.
 */
import { manacore } from '../environments';
import { container, serviceContainers, traefikLabels } from './helpers/docker';
import { environmentOf, variant } from './helpers/spec';
import { SynthesizedSystem, resources, type TerraformJson } from './helpers/synth';

/** Manacore with production's chat deployed at `tag`, optionally one service pinned to another tag (a rollback). */
function withChatTag(tag: string, imageTags?: Record<string, string>) {
  return new SynthesizedSystem(
    variant(manacore, (system) => {
      const chat = environmentOf(system, 'production').products.find((deployment) => deployment.product === 'chat')!;
      chat.imageTag = tag;
      chat.imageTags = imageTags;
    }),
  );
}

let current: SynthesizedSystem;
let next: SynthesizedSystem;
let chatNow: TerraformJson;
let chatNext: TerraformJson;

beforeAll(() => {
  current = withChatTag('main-1111111');
  next = withChatTag('main-2222222');
  chatNow = current.synth('production-chat');
  chatNext = next.synth('production-chat');
});

describe('zero-downtime image swaps', () => {
  it('creates the replacement container before destroying the old one', () => {
    for (const body of Object.values(serviceContainers(chatNow))) expect(body.lifecycle).toEqual({ create_before_destroy: true });
  });

  it('names each container after its service, its tag and a revision, so old and new never collide', () => {
    expect(container(chatNow, 'chat-backend').name).toBe('chat-backend-main-1111111-${random_id.chat-backend-revision.hex}');
    expect(container(chatNext, 'chat-backend').name).toBe('chat-backend-main-2222222-${random_id.chat-backend-revision.hex}');
  });

  it('draws a new revision whenever the image or anything else about the container changes', () => {
    const now = resources(chatNow, 'random_id')['chat-backend-revision'];
    const after = resources(chatNext, 'random_id')['chat-backend-revision'];
    expect(now).toMatchObject({ byte_length: 4, lifecycle: { create_before_destroy: true } });
    expect(now.keepers.image).toBe('ghcr.io/manacore/chat-backend:main-1111111');
    expect(after.keepers.image).toBe('ghcr.io/manacore/chat-backend:main-2222222');
    // Secret values and network names are only known to Terraform: it hashes them itself.
    expect(now.keepers.references).toMatch(/^\$\{sha256\(join\("\\n", \[var\.azure_openai_api_key, data\.terraform_remote_state/);
  });

  it('keeps the old image on the host for a rollback and pulls the new one by its tag', () => {
    expect(resources(chatNext, 'docker_image')['chat-backend']).toEqual(
      expect.objectContaining({ name: 'ghcr.io/manacore/chat-backend:main-2222222', keep_locally: true }),
    );
  });

  it('waits until the new container is healthy before the old one goes', () => {
    const backend = container(chatNow, 'chat-backend');
    expect(backend.wait).toBe(true);
    // Start period 40s, then 3 probes of 30s + 10s, plus 30s of margin.
    expect(backend.wait_timeout).toBe(190);
  });

  it('carries identical routing labels in every version, so the proxy serves whichever is healthy', () => {
    for (const address of ['chat-backend', 'chat-web', 'chat-landing']) {
      expect(traefikLabels(container(chatNext, address))).toEqual(traefikLabels(container(chatNow, address)));
      expect(JSON.stringify(traefikLabels(container(chatNow, address)))).not.toContain('main-1111111');
    }
  });

  it('rolls back one service by pinning its tag, leaving its siblings alone', () => {
    const rollback = withChatTag('main-2222222', { backend: 'main-1111111' }).synth('production-chat');
    expect(resources(rollback, 'docker_image')['chat-backend'].name).toBe('ghcr.io/manacore/chat-backend:main-1111111');
    expect(resources(rollback, 'docker_image')['chat-web'].name).toBe('ghcr.io/manacore/chat-web:main-2222222');
    expect(resources(rollback, 'random_id')['chat-web-revision'].keepers).toEqual(resources(chatNext, 'random_id')['chat-web-revision'].keepers);
  });

  it('never touches the data, edge or network stacks when a product tag changes', () => {
    for (const stack of ['production-network', 'production-edge', 'production-data']) {
      expect(next.synth(stack)).toEqual(current.synth(stack));
    }
  });

  it('keeps the data containers out of the create-before-destroy swap (one server per volume)', () => {
    const data = current.synth('production-data');
    for (const body of Object.values(resources(data, 'docker_container'))) expect(body.lifecycle).toBeUndefined();
  });
});
