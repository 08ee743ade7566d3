import type { UserProfile } from '../models/index.js';
import type { Candidate, PipelineContext, Reason } from './types.js';

/** "viewed", "bought", … from an event name, for reasons; names are matched loosely on purpose. */
function phrase(eventName: string, itemId: string): string {
  const name = eventName.toLowerCase();
  if (/purchas|order|bought|checkout/.test(name)) return `Because you bought ${itemId}`;
  if (/cart/.test(name)) return `Because you added ${itemId} to your cart`;
  if (/wish/.test(name)) return `Because you saved ${itemId}`;
  if (/rat|review/.test(name)) return `Because you rated ${itemId}`;
  if (/view|click|open/.test(name)) return `Because you viewed ${itemId}`;
  return `Because you liked ${itemId}`;
}

/** The reason for one candidate, from the evidence of the model that put it forward. */
export function reasonFor(
  context: PipelineContext,
  candidate: Candidate,
  evidenceProfile: UserProfile,
): Reason {
  const { source } = candidate;
  if (!source || candidate.index < 0) {
    const item = context.catalog.get(candidate.itemId);
    const category = item?.categories[0];
    return { kind: 'new', text: category ? `New in ${category}` : 'New in the catalog' };
  }
  const evidence = source.evidence(evidenceProfile, candidate.index);
  switch (evidence.kind) {
    case 'item': {
      const itemId = context.bundle?.itemIds[evidence.item];
      if (itemId === undefined) break;
      const action = context.profile.actions.get(itemId) ?? 'interacted';
      return { kind: 'because_item', text: phrase(action, itemId), itemId };
    }
    case 'taste':
      // Collaborative taste: the users whose histories shaped these factors are the ones "like you".
      return { kind: 'taste', text: 'Popular with users like you' };
    case 'popular':
      break;
  }
  const category = context.catalog.get(candidate.itemId)?.categories[0];
  return { kind: 'popular', text: category ? `Popular in ${category}` : 'Popular right now' };
}
