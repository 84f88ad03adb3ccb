/**
 * Which items a lock or package is made of (`--item-ids`, `--providers` of
 * `ferry build` and `ferry asset-lock derive`), as stacpkg selects them: an
 * item's providers are the names in `properties.providers[]` (objects'
 * `name`, or plain strings), and the `provider` and `oam:producer_name`
 * properties (OpenAerialMap's items carry the latter).
 *
 * @module
 */
import { itemFilter } from "../stac/json_input.ts";

/** What selection reads of an item (a `StacItem` fits). */
export interface SelectableItem {
  /** The item id. */
  id: string;
  /** The item's properties. */
  properties?: Record<string, unknown> | null | undefined;
}

/** Which items to keep; each list, when non-empty, must match. */
export interface ItemSelection {
  /** Keep items whose id is one of these. @default all */
  itemIds?: readonly string[] | undefined;
  /** Keep items with a provider name among these. @default all */
  providers?: readonly string[] | undefined;
}

/**
 * A predicate for a selection, or undefined when it keeps every item.
 *
 * @example
 * ```ts
 * import { itemSelector } from "./item_selection.ts";
 * import { equal } from "node:assert/strict";
 * const keep = itemSelector({ providers: ["OpenAerialMap"] })!;
 * equal(keep({ id: "a", properties: { "oam:producer_name": "OpenAerialMap" } }), true);
 * equal(keep({ id: "b", properties: {} }), false);
 * equal(itemSelector({ itemIds: [], providers: [] }), undefined);
 * ```
 *
 * @param selection Item ids and provider names.
 * @returns Whether an item is kept, or undefined for "all".
 */
export function itemSelector(
  selection: ItemSelection,
): ((item: SelectableItem) => boolean) | undefined {
  return itemFilter({ itemIds: selection.itemIds, providers: selection.providers });
}
