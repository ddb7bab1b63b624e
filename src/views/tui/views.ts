// Every view of the table, by id (view-state.ts's VIEW_IDS, in the order `v` goes through them).
// A new view is its file and its entry here.
import { POD_VIEW } from './pod-view.js';
import { PROCESS_VIEW } from './process-view.js';
import type { AnyView } from './screen-view.js';
import { VIEW_IDS, type ViewId, type ViewState } from './view-state.js';

export const VIEWS: { readonly [id in ViewId]: AnyView } = {
  processes: PROCESS_VIEW,
  pods: POD_VIEW,
};

export function viewOf(state: Pick<ViewState, 'view'>): AnyView {
  return VIEWS[state.view];
}

/** The view `v` goes to from `id`. */
export function nextView(id: ViewId): ViewId {
  return VIEW_IDS[(VIEW_IDS.indexOf(id) + 1) % VIEW_IDS.length] ?? id;
}
