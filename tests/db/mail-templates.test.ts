import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as cheerio from 'cheerio';
import { simpleParser } from 'mailparser';
import { MAIL_TEMPLATES, type MailTemplate, type MailTemplateData } from '../../src/platform/mail/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { TestSmtpServer } from '../helpers/smtp.js';

const EXPIRES = new Date('2026-03-07T04:00:00Z'); // 12:00 in Taipei, 民國115年3月7日

const samples: { [T in MailTemplate]: MailTemplateData[T] } = {
  'registration-confirmation': { linkPath: '/register/confirm?token=abc&x=1', expiresAt: EXPIRES },
  'registration-activation': { unitCode: '12345678', linkPath: '/register/activate?token=abc&x=1', expiresAt: EXPIRES },
  'registration-complete': {},
  'password-reset': { linkPath: '/forgot-password/reset?token=def', expiresAt: EXPIRES },
  'password-changed': { changedAt: EXPIRES },
  'email-changed': { changedAt: EXPIRES },
  'deletion-confirmation': { code: 'aB3xY9', linkPath: '/delete-registration/confirm?token=ghi' },
  'deletion-notice': { deletedAt: EXPIRES },
  'bulk-upload-result': {
    clerkName: '王<b>小明</b>',
    unitCode: '12345678',
    fileName: 'employees.csv',
    uploadedAt: EXPIRES,
    total: 3,
    accepted: 2,
    rejected: 1,
    linkPath: '/employer/uploads/7',
  },
};

describe('mail templates', () => {
  const smtp = new TestSmtpServer();
  let t: TestApp;
  before(async () => {
    await smtp.start(0);
    t = await buildTestApp({ env: { SMTP_URL: smtp.url, PUBLIC_ORIGIN: 'https://cloudicweb.example.tw' } });
  });
  after(async () => {
    await t.close();
    await smtp.stop();
  });

  test('the confirmation mail in zh-TW: subject, absolute link, 5 days, expiry in the ROC calendar', () => {
    const mail = t.services.mail.render('registration-confirmation', 'zh-TW', samples['registration-confirmation']);
    assert.equal(mail.subject, '健保卡網路服務註冊-認證通知信');
    assert.ok(mail.text.includes('https://cloudicweb.example.tw/register/confirm?token=abc&x=1'));
    assert.ok(mail.text.includes('5 日'));
    assert.ok(mail.text.includes('民國115年3月7日 12:00:00'), mail.text);
    const $ = cheerio.load(mail.html!);
    assert.equal($('a').first().attr('href'), 'https://cloudicweb.example.tw/register/confirm?token=abc&x=1');
    assert.ok(mail.html!.includes('token=abc&amp;x=1'), 'the link is escaped in HTML');
    assert.ok($.text().includes('民國115年3月7日 12:00:00'));
  });

  test('the confirmation mail in en: Gregorian date, the same link, the Chinese subject alongside', () => {
    const mail = t.services.mail.render('registration-confirmation', 'en', samples['registration-confirmation']);
    assert.ok(mail.subject.includes('健保卡網路服務註冊-認證通知信'));
    assert.ok(mail.subject.startsWith('NHI Card Online Services Registration'));
    assert.ok(mail.text.includes('https://cloudicweb.example.tw/register/confirm?token=abc&x=1'));
    assert.ok(mail.text.includes('2026-03-07 12:00:00'));
    assert.ok(!mail.text.includes('民國'));
    assert.ok(mail.text.includes('5 days'));
  });

  test('every template renders in both languages with its subject; values are escaped in HTML', () => {
    for (const template of MAIL_TEMPLATES) {
      for (const locale of ['zh-TW', 'en'] as const) {
        const mail = t.services.mail.render(template, locale, samples[template] as never);
        assert.ok(mail.subject && !mail.subject.startsWith('mail.'), `${template} ${locale} subject`);
        assert.ok(mail.text.length > 100, `${template} ${locale} text`);
        assert.ok(!/undefined|\[object Object\]/.test(mail.text), `${template} ${locale} has no holes`);
        if (mail.html) assert.ok(!mail.html.includes('<b>'), `${template} ${locale} escapes values`);
      }
    }
    const deletion = t.services.mail.render('deletion-confirmation', 'zh-TW', samples['deletion-confirmation']);
    assert.equal(deletion.subject, '健保卡網路服務註冊-刪除註冊確認信');
    assert.ok(deletion.text.includes('E-Mail 驗證碼：aB3xY9'));
    assert.ok(deletion.text.includes('大小寫需相符'));
    assert.ok(deletion.text.includes('https://cloudicweb.example.tw/delete-registration/confirm?token=ghi'));
    const hostile = t.services.mail.render('deletion-confirmation', 'en', { code: '<i>X</i>', linkPath: '/d?t="><script>' });
    assert.ok(hostile.html!.includes('&lt;i&gt;X&lt;/i&gt;') && !hostile.html!.includes('<i>X'));
    assert.ok(!hostile.html!.includes('<script>') && !hostile.html!.includes('"><'));
    const complete = t.services.mail.render('registration-complete', 'zh-TW', {});
    for (const service of ['個人健康資料網路服務作業', '健康存摺', '全民健保行動快易通']) assert.ok(complete.text.includes(service));
    const notice = t.services.mail.render('deletion-notice', 'zh-TW', samples['deletion-notice']);
    assert.ok(notice.text.includes('您申請健保卡網路服務註冊功能業已於 民國115年3月7日'));
  });

  test('a link that is not a path of this site is refused', () => {
    assert.throws(() => t.services.mail.render('password-reset', 'en', { linkPath: 'https://evil.example/reset' }));
    assert.throws(() => t.services.mail.render('password-reset', 'en', { linkPath: '//evil.example/reset' }));
  });

  test('the upload result arrives over SMTP with the text file attached', async () => {
    const rows = '第1列\tA123456789\t成功\n第2列\tB223456789\t成功\n第3列\tC123456789\t非本單位在保\n';
    await t.services.orm.em.fork().transactional((tx) =>
      t.services.mail.enqueue(tx, {
        template: 'bulk-upload-result',
        locale: 'zh-TW',
        to: 'clerk@example.com',
        idempotencyKey: 'bulk-upload-result:7',
        data: samples['bulk-upload-result'],
        attachments: [{ name: 'result-7.txt', content: rows }],
      }),
    );
    assert.equal((await t.services.mailWorker.runOnce()).sent, 1);
    const [caught] = await smtp.waitFor(1);
    assert.equal(caught!.subject, '健保卡網路服務註冊-整批註冊申請上傳結果');
    assert.ok(caught!.text.includes('王<b>小明</b> 您好'), 'the text version is plain text');
    assert.ok(caught!.text.includes('https://cloudicweb.example.tw/employer/uploads/7'));
    const parsed = await simpleParser(caught!.raw);
    assert.equal(parsed.attachments.length, 1);
    assert.equal(parsed.attachments[0]!.filename, 'result-7.txt');
    assert.equal(parsed.attachments[0]!.content.toString('utf8'), rows);
  });
});
