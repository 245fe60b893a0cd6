import { Router, type Request, type RequestHandler, type Response } from 'express';
import QRCode from 'qrcode';
import { maskIdNumber } from '../../platform/audit/index.js';
import { clientAddress } from '../../platform/http/index.js';
import { isFragmentRequest, render } from '../../platform/views/index.js';
import type { LoginUser } from '../credentials/index.js';
import type { DeviceChange, DevicesService } from './service.js';

const VERIFY = '/account/device-verification';
const MANAGE = '/account/devices';
const CHANGES: readonly DeviceChange[] = ['disable', 'enable', 'delete'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NOTICES: Record<string, string> = {
  disable: 'devices.manage.done.disable',
  enable: 'devices.manage.done.enable',
  delete: 'devices.manage.done.delete',
  'not-found': 'devices.manage.notFound',
};

export interface DeviceRouteDeps {
  service: DevicesService;
  requireLogin: RequestHandler;
  currentPerson(req: Request): LoginUser | undefined;
}

/** 行動裝置認證 and 行動裝置管理作業 (SPEC.md "Logged-in services"). */
export function devicesRouter(deps: DeviceRouteDeps): Router {
  const router = Router();
  const { service } = deps;
  const person = (req: Request) => deps.currentPerson(req)!;
  const where = (req: Request) => ({ clientAddress: clientAddress(req) });

  router.use(VERIFY, deps.requireLogin);
  router.use(MANAGE, deps.requireLogin);

  const verifyPage = (req: Request, res: Response, issued?: { code: string; expiresAt: Date; qrSvg: string }) => {
    render(req, res, 'devices/verification', { maskedId: maskIdNumber(person(req).idNumber), issued }, { fragment: 'devices/_code' });
  };
  router.get(VERIFY, (req, res) => verifyPage(req, res));
  // 產生裝置認證碼: the code is shown in this response only (never kept in the session); a reload makes a new one.
  router.post(VERIFY, async (req, res) => {
    const { code, expiresAt } = await service.issueCode(person(req).idNumber, where(req));
    verifyPage(req, res, { code, expiresAt, qrSvg: await deviceCodeQr(code) });
  });

  router.get(MANAGE, async (req, res) => {
    const devices = await service.devices(person(req).idNumber);
    const done = typeof req.query.done === 'string' ? NOTICES[req.query.done] : undefined;
    render(req, res, 'devices/manage', { devices, notice: done });
  });
  // 停用裝置 / 啟用裝置 / 刪除裝置: HTMX swaps the row; without JS the page reloads with a notice.
  router.post(`${MANAGE}/:bindingId/:change`, async (req, res, next) => {
    const change = req.params.change as DeviceChange;
    const bindingId = req.params.bindingId ?? '';
    if (!CHANGES.includes(change) || !UUID.test(bindingId)) return next();
    const result = await service.change(person(req).idNumber, bindingId, change, where(req));
    if (isFragmentRequest(req)) {
      // A row already gone (deleted in another window) leaves the table as the person expects: without it.
      if (result === 'not_found' || !result.device) return res.status(200).type('html').send('');
      return render(req, res, 'devices/_row', { device: result.device });
    }
    res.redirect(303, `${MANAGE}?done=${result === 'not_found' ? 'not-found' : change}`);
  });
  return router;
}

/** The code as the QR image the app scans (views/devices/_code.eta shows it beside the code's text). */
export function deviceCodeQr(code: string): Promise<string> {
  return QRCode.toString(code, { type: 'svg', margin: 2, width: 200, errorCorrectionLevel: 'M' });
}
