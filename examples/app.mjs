// A small login + view-counter app on express 5, express-session and express-memfilestore.
//
//   npm start                      # builds the package, then serves http://localhost:3000
//   PORT=8080 SESSION_SECRET=... SESSION_FILE=/var/lib/myapp/sessions.db npm start
//
// Sessions live in memory and are saved to SESSION_FILE (default examples/.data/sessions.db) every
// 5 seconds when something changed, and once more on SIGTERM/SIGINT, so logins survive a restart. Between
// snapshots every change goes to the journal beside it (the default, journal: 'everysec'), so a kill -9 or
// an out-of-memory kill loses at most the last few milliseconds of logins, and a power cut about a second.
//
// Tests import `createApp` and hand it their own store; nothing below listens unless this file is run.
import { mkdirSync, realpathSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import express from 'express';
import session from 'express-session';
import { MemFileStore } from 'express-memfilestore';

const COOKIE_NAME = 'sid';
const MAX_NAME_LENGTH = 64;

/**
 * Builds the express app.
 * @param {object} options
 * @param {import('express-session').Store} [options.store] the session store (default: a memory-only MemFileStore)
 * @param {string | string[]} options.secret the secret(s) signing the session cookie
 * @returns {import('express').Express}
 */
export function createApp({ store = new MemFileStore(), secret } = {}) {
  if (!secret) throw new TypeError('createApp: a session secret is required');

  const app = express();
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: false, limit: '4kb' }));
  app.use(session({
    name: COOKIE_NAME,
    store,
    secret,
    resave: false, // unchanged sessions are only touched (cheap), not rewritten
    saveUninitialized: false, // no session (and no cookie) until someone logs in
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      // Behind HTTPS in production set this to true (and `app.set('trust proxy', 1)` behind a proxy).
      secure: false,
      maxAge: 24 * 60 * 60 * 1000,
    },
  }));

  app.get('/', (req, res) => {
    const user = req.session.user;
    if (user) req.session.views = (req.session.views ?? 0) + 1;
    res.type('html').send(page(user ? loggedIn(user, req.session.views) : loginForm()));
  });

  app.post('/login', (req, res, next) => {
    const name = typeof req.body?.name === 'string' ? req.body.name.trim() : '';
    if (name === '' || name.length > MAX_NAME_LENGTH) {
      res.status(400).type('html').send(page(loginForm(`Please enter a name of 1 to ${MAX_NAME_LENGTH} characters.`)));
      return;
    }
    // A new session id at login: an id planted before login (session fixation) is worth nothing after it.
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = name;
      req.session.views = 0;
      req.session.save((saveErr) => (saveErr ? next(saveErr) : res.redirect(303, '/')));
    });
  });

  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => {
      if (err) return next(err);
      res.clearCookie(COOKIE_NAME, { path: '/', httpOnly: true, sameSite: 'lax' });
      res.redirect(303, '/');
    });
  });

  app.get('/api/me', (req, res) => {
    res.json({ user: req.session?.user ?? null, views: req.session?.views ?? 0 });
  });

  return app;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loggedIn(user, views) {
  return `
    <h1>Hello, <span id="user">${escapeHtml(user)}</span></h1>
    <p>You have viewed this page <strong id="views">${views}</strong> time${views === 1 ? '' : 's'} in this session.</p>
    <p class="hint">Restart the server (Ctrl-C, then <code>npm start</code>) and reload: you are still logged in.</p>
    <form method="post" action="/logout"><button type="submit">Log out</button></form>`;
}

function loginForm(error) {
  return `
    <h1>Log in</h1>
    ${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
    <form method="post" action="/login">
      <label for="name">Your name</label>
      <input id="name" name="name" autocomplete="username" maxlength="${MAX_NAME_LENGTH}" required autofocus>
      <button type="submit">Log in</button>
    </form>`;
}

function page(body) {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>express-memfilestore example</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem; color: #222; }
    h1 { font-weight: 600; }
    form { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
    input { flex: 1; padding: .4rem .6rem; font: inherit; }
    button { padding: .4rem 1rem; font: inherit; cursor: pointer; }
    .hint { color: #666; font-size: .9rem; }
    .error { color: #b00020; }
    footer { margin-top: 3rem; color: #888; font-size: .8rem; }
  </style>
</head>
<body>
  <main>${body}
  </main>
  <footer>Sessions by express-memfilestore · <a href="/api/me">/api/me</a></footer>
</body>
</html>
`;
}

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

async function main() {
  let secret = process.env.SESSION_SECRET;
  if (!secret) {
    secret = 'dev-only-secret-change-me';
    console.warn('Warning: SESSION_SECRET is not set; using a fixed development secret. Set SESSION_SECRET in production.');
  }

  let saveFile = process.env.SESSION_FILE;
  if (!saveFile) {
    const dataDir = fileURLToPath(new URL('./.data/', import.meta.url));
    mkdirSync(dataDir, { recursive: true });
    saveFile = `${dataDir}sessions.db`;
  }

  // journal: 'everysec' is the default with saveFile; 'always' would sync each change before answering.
  const store = new MemFileStore({ checkPeriod: 60_000, saveFile, savePeriod: 5_000 });
  // With a snapshot file, the store is usable once it is loaded; a damaged file rejects here.
  await store.ready;

  const server = createApp({ store, secret }).listen(Number(process.env.PORT ?? 3000));
  await new Promise((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  console.log(`Listening on http://localhost:${server.address().port}`);
  console.log(`Sessions are saved to ${saveFile}`);

  let stopping = false;
  const shutdown = async (signal) => {
    if (stopping) {
      console.error(`${signal} again: exiting without waiting.`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: closing the server and saving sessions...`);
    try {
      await new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      // A final save: nothing changed since the last period is lost.
      if (typeof store.close === 'function') await store.close();
    } catch (err) {
      console.error('Shutdown failed:', err);
      process.exit(1);
    }
    console.log('Bye.');
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

if (isMain()) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
