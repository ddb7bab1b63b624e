// The pod view (`v`): a row per pod that a process runs in or watches, live or gone; its detail
// pane the processes watching inside the selected pod, keeping its mounts or running in it; Enter
// inspects the pod.
import { grouped } from '../../common/format.js';
import type { History } from '../../model/history.js';
import { clipColumns, placeColumns, type TableColumn } from '../columns.js';
import { podLabel } from '../../model/target-text.js';
import { podInspectParagraphs } from './inspect.js';
import {
  ageText,
  isPodSortKey,
  pidList,
  podMembers,
  podRows,
  podSortKey,
  podStateText,
  POD_SORT_FIELDS,
  visiblePods,
  type PodMember,
  type PodRow,
} from './pod-rows.js';
import { firstLeaking, sortMarker, type ScreenView } from './screen-view.js';
import type { ViewState } from './view-state.js';

/** What the pod table's cells need besides their row. */
export interface PodCellContext {
  history: History;
  podsSeen: ReadonlyMap<string, string>;
  /** The snapshot's time, that AGE counts to. */
  now: string;
  uidWidth: number;
}

/** Where the UID shows whole; narrower, its first 8 digits (inspect and the detail pane have it whole). */
const WHOLE_UID = 160;

const uidWidth = (width: number) => (width >= WHOLE_UID ? 36 : 8);

type PodColumn = TableColumn<PodRow, PodCellContext> & { id: 'name' | 'uid' | 'state' | 'watches' | 'leaked' | 'watchers' | 'holders' | 'age' };

const column = (id: PodColumn['id'], title: string, width: number, align: 'left' | 'right', cell: PodColumn['cell']): PodColumn => ({
  id,
  title,
  width,
  flexible: false,
  align,
  cell,
});

/** The pod table's columns; the UID's width is the screen's (uidWidth). */
const POD_COLUMNS: readonly PodColumn[] = [
  // What tells one pod from another: never narrower than a namespace and a generated name
  // ("ci/runner-2l869"), with its end kept (the generated suffix) when longer; the columns after it
  // are cut at the screen's edge first (80 columns cut every name to "ci/runner…").
  { ...column('name', 'NAMESPACE/NAME', 24, 'left', (row) => podLabel({ ...row.pod, state: 'live' })), flexible: true, elide: 'middle' },
  column('uid', 'UID', 8, 'left', (row, context) => row.pod.uid.slice(0, context.uidWidth)),
  column('state', 'STATE', 19, 'left', (row, context) => podStateText(row.pod, context.history)),
  column('watches', 'WATCHES', 8, 'right', (row) => grouped(row.watches)),
  column('leaked', 'LEAKED', 7, 'right', (row) => (row.leaked ? grouped(row.leaked) : '')),
  column('watchers', 'WATCHERS', 16, 'left', (row) =>
    pidList(
      row.watchers.map((w) => w.pid),
      2,
    ),
  ),
  column('holders', 'HOLDERS', 16, 'left', (row) => pidList(row.holders, 2)),
  column('age', 'AGE', 5, 'right', (row, context) => ageText(context.podsSeen.get(row.pod.uid), context.now)),
];

const MEMBER_COLUMNS: readonly TableColumn<PodMember, null>[] = [
  { id: 'watches', title: 'WATCHES', width: 8, flexible: false, align: 'right', cell: (m) => (m.watches === null ? '' : grouped(m.watches)) },
  { id: 'leaked', title: 'LEAKED', width: 7, flexible: false, align: 'right', cell: (m) => (m.leaked ? String(m.leaked) : '') },
  { id: 'pid', title: 'PID', width: 8, flexible: false, align: 'right', cell: (m) => String(m.pid) },
  { id: 'who', title: 'WHO', width: 10, flexible: true, align: 'left', cell: (m) => m.who },
];

function selectedPodRow(state: ViewState): PodRow | null {
  return visiblePods(state).find((candidate) => candidate.pod.uid === state.selectedPod) ?? null;
}

export const POD_VIEW: ScreenView<PodRow, string, PodCellContext, PodMember, null> = {
  id: 'pods',
  rowsName: 'pods',
  rows: visiblePods,
  keyOf: (row) => row.pod.uid,
  place: (state) => ({ key: state.selectedPod, index: state.podIndex, top: state.podTop }),
  withPlace: (state, place) => ({ ...state, selectedPod: place.key, podIndex: place.index, podTop: place.top }),
  openingIndex: firstLeaking,
  picked: (state) => state,
  sortFields: () => POD_COLUMNS.flatMap((spec) => (isPodSortKey(spec.id) ? [POD_SORT_FIELDS[spec.id]] : [])),
  columns(state, width) {
    const sortedBy = podSortKey(state.sort.field);
    const specs = POD_COLUMNS.map((spec) => (spec.id === 'uid' ? { ...spec, width: uidWidth(width) } : spec));
    return clipColumns(
      placeColumns(specs, width, (spec) => spec.title + (spec.id === sortedBy ? sortMarker(state.sort) : '')),
      width,
    );
  },
  cellContext: (state, width) => ({
    history: state.history,
    podsSeen: state.podsSeen,
    now: state.snapshot?.time ?? new Date(0).toISOString(),
    uidWidth: uidWidth(width),
  }),
  rowStyle: (row) => (row.leaked > 0 || row.pod.state === 'gone' ? 'leak' : null),
  emptyText: (state) => (state.filter.text ? 'no pod matches the filter' : 'no process runs in or watches a pod'),
  detail(state) {
    const row = selectedPodRow(state);
    const heading = row
      ? `pod ${podLabel(row.pod)}  uid ${row.pod.uid}${row.pod.nameSource ? `  (name from ${row.pod.nameSource})` : ''}: ` +
        `${grouped(row.watches)} watches${row.leaked ? `, ${grouped(row.leaked)} leaked` : ''}`
      : 'no pod selected';
    return {
      heading,
      table: row && {
        rows: podMembers(row, state.snapshot),
        top: 0,
        cursor: null,
        columns: (width) => placeColumns(MEMBER_COLUMNS, width),
        context: null,
        style: () => null,
      },
    };
  },
  inspect(state, uid) {
    const row = podRows(state.snapshot).find((candidate) => candidate.pod.uid === uid);
    return row && state.snapshot ? podInspectParagraphs(row, state.snapshot) : null;
  },
};
