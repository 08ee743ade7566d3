import type { UserProfile } from '../models/index.js';
import { cachedEvidence } from './evidence-cache.js';
import type { Candidate, PipelineContext, Reason } from './types.js';

/** "viewed", "bought", … from an event name, for reasons; names are matched loosely on purpose. */
function verbOf(eventName: string): string {
  const name = eventName.toLowerCase();
  if (/purchas|order|bought|checkout/.test(name)) return 'bought';
  if (/cart/.test(name)) return 'added';
  if (/wish/.test(name)) return 'saved';
  if (/rat|review/.test(name)) return 'rated';
  if (/view|click|open/.test(name)) return 'viewed';
  return 'liked';
}

/**
 * Verbs by event name, so a list's twenty reasons do not each lower-case and match the name again. Event
 * names are a small vocabulary; a bound keeps a client inventing names per event from growing it.
 */
const verbs = new Map<string, string>();
const MAX_VERBS = 1_000;

function phrase(eventName: string, itemId: string): string {
  let verb = verbs.get(eventName);
  if (verb === undefined) {
    verb = verbOf(eventName);
    if (verbs.size < MAX_VERBS) verbs.set(eventName, verb);
  }
  return verb === 'added' ? `Because you added ${itemId} to your cart` : `Because you ${verb} ${itemId}`;
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
  if (context.bundle?.isNewItem(candidate.index)) return newItemReason(context, candidate, evidenceProfile);
  const evidence = cachedEvidence(source, evidenceProfile, candidate.index);
  switch (evidence.kind) {
    case 'item': {
      const itemId = context.bundle?.itemIds[evidence.item];
      if (itemId === undefined) break;
      const action = context.profile.history.action(itemId) ?? 'interacted';
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

/**
 * A new item (indexed without interactions, put forward by the hybrid from its features): "Matches your
 * taste for <category>" when one of its categories is among those of the user's recent items, else
 * "New in <category>". Only the candidate's categories and the (at most 50) recent items are looked at.
 */
function newItemReason(context: PipelineContext, candidate: Candidate, recent: UserProfile): Reason {
  const categories = context.catalog.get(candidate.itemId)?.categories ?? [];
  const { bundle, catalog } = context;
  if (bundle && categories.length > 0) {
    const wanted = new Set(categories);
    for (let k = 0; k < recent.items.length; k++) {
      const itemId = bundle.itemIds[recent.items[k]!];
      const match =
        itemId === undefined ? undefined : catalog.get(itemId)?.categories.find((c) => wanted.has(c));
      if (match !== undefined) return { kind: 'new', text: `Matches your taste for ${match}` };
    }
  }
  const category = categories[0];
  return { kind: 'new', text: category ? `New in ${category}` : 'New in the catalog' };
}
