import type { RequestHandler } from 'express';
import type { ServiceHours } from '../../config.js';
import type { Clock } from '../clock.js';
import { taipeiMinutes } from '../i18n/dates.js';
import { render } from '../views/index.js';

export function isWithinServiceHours(hours: ServiceHours, at: Date): boolean {
  const minutes = taipeiMinutes(at);
  return minutes >= hours.start && minutes < hours.end;
}

/** Outside the hours, citizen pages answer 503 with the hours (and Retry-After), and change nothing. */
export function serviceHoursGate(hours: ServiceHours, clock: Clock): RequestHandler {
  return (req, res, next) => {
    const open = isWithinServiceHours(hours, clock.now());
    res.locals.serviceOpen = open;
    if (open) return next();
    res.set('Retry-After', '3600');
    render(req, res, 'errors/closed', { hours: hours.text }, { status: 503 });
  };
}
