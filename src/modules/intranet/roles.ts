import type { StaffRole } from './entities/staff-member.js';

export { STAFF_ROLES, type StaffRole } from './entities/staff-member.js';

/**
 * Who may do what at the counter: the one table every page, menu entry and form checks. Counter work is the
 * clerks' and supervisors'; reinstating a suspension and designating employer admins need a supervisor; admins
 * manage staff and terminals and do no counter work on persons.
 */
export const STAFF_ACTIONS = {
  'person.lookup': ['clerk', 'supervisor'],
  'person.register': ['clerk', 'supervisor'],
  'person.suspend': ['clerk', 'supervisor'],
  'person.reinstate': ['supervisor'],
  'person.unlock': ['clerk', 'supervisor'],
  'person.resend': ['clerk', 'supervisor'],
  'announcements.manage': ['supervisor', 'admin'],
  'employers.designate': ['supervisor'],
  'audit.view': ['supervisor', 'admin'],
  'staff.manage': ['admin'],
  'terminals.manage': ['admin'],
} as const satisfies Record<string, readonly StaffRole[]>;

export type StaffAction = keyof typeof STAFF_ACTIONS;

export function can(role: StaffRole, action: StaffAction): boolean {
  return (STAFF_ACTIONS[action] as readonly StaffRole[]).includes(role);
}

/** The menu: each entry's page and the action it needs, in the order staff use them. */
export const STAFF_MENU: readonly { href: string; key: string; action: StaffAction }[] = [
  { href: '/intranet/register', key: 'intranet.menu.register', action: 'person.register' },
  { href: '/intranet/persons', key: 'intranet.menu.persons', action: 'person.lookup' },
  { href: '/intranet/employers', key: 'intranet.menu.employers', action: 'employers.designate' },
  { href: '/intranet/announcements', key: 'intranet.menu.announcements', action: 'announcements.manage' },
  { href: '/intranet/audit', key: 'intranet.menu.audit', action: 'audit.view' },
  { href: '/intranet/staff', key: 'intranet.menu.staff', action: 'staff.manage' },
  { href: '/intranet/terminals', key: 'intranet.menu.terminals', action: 'terminals.manage' },
];
