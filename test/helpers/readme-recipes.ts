/**
 * The README's Cognigy recipes, read from README.md itself so a test runs exactly what a flow builder copies.
 *
 * Markers (HTML comments, invisible on GitHub) name each block:
 * - `<!-- recipe: NAME -->` starts a recipe; up to the next marker or heading it holds the node's request line as
 *   inline code (`` `POST <ApiUrl>sms` ``), its storage key (``storage key `sms` `` or ``Context key `sms` ``) and,
 *   for POST, the first ```json block: the node's JSON body.
 * - `<!-- recipe-headers -->` is followed by the ```json block of the node's Headers field, used by every recipe.
 * - `<!-- recipe-condition: NAME -->` is followed by an If node condition as inline code (CognigyScript, i.e.
 *   JavaScript over `input`, `context` and `profile`).
 * - `<!-- recipe-code: NAME -->` is followed by the ```js block of a Code node (`input`, `context`, `api`).
 *
 * Rendering replaces only what Cognigy (or the deployment) fills in: `{{input.…}}`, `{{context.…}}`, `{{profile.…}}`
 * tokens (an unset path renders as "", as Cognigy does), `{"$cs":{"script":"…","type":"object"}}` values, and the
 * `<ApiUrl>` / `<API key>` placeholders of the deployment.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface ReadmeRecipe {
  name: string;
  method: 'GET' | 'POST';
  /** The URL as printed, e.g. `<ApiUrl>handover/{{context.handover.conversationId}}/messages`. */
  url: string;
  /** Where the node stores the answer: `context.<storageKey>`. */
  storageKey: string;
  /** The JSON body exactly as printed (POST only). */
  bodyText?: string;
}

export interface ReadmeRecipes {
  recipes: Map<string, ReadmeRecipe>;
  /** The node's Headers field as printed (values may hold `<API key>`). */
  headers: Record<string, string>;
  conditions: Map<string, string>;
  codeNodes: Map<string, string>;
}

/** A Cognigy session as the tokens see it. */
export interface CognigyScope {
  input: Record<string, unknown>;
  context: Record<string, unknown>;
  profile: Record<string, unknown>;
}

/** What the deployment fills in: the API URL (with a trailing slash, as the stack output `ApiUrl`) and the key. */
export interface Deployment {
  apiUrl: string;
  apiKey: string;
}

export const README_PATH = path.join(__dirname, '..', '..', 'README.md');

const MARKER = /^<!--\s*(recipe|recipe-headers|recipe-condition|recipe-code)(?::\s*([\w-]+))?\s*-->\s*$/;
const REQUEST_LINE = /`(GET|POST) (<ApiUrl>[^`\s]*)`/;
const STORAGE_KEY = /(?:storage key|Context key)\s+`(\w+)`/i;

class RecipeFormatError extends Error {
  constructor(message: string) {
    super(`README recipe: ${message}`);
    this.name = 'RecipeFormatError';
  }
}

interface Section {
  kind: string;
  name: string | undefined;
  /** Lines after the marker, up to the next marker or heading (code fences kept). */
  lines: string[];
}

/** Splits the markdown into marker sections; headings and markers inside code fences do not count. */
function sections(markdown: string): Section[] {
  const out: Section[] = [];
  let current: Section | undefined;
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) inFence = !inFence;
    const marker = inFence ? null : MARKER.exec(line);
    if (marker) {
      current = { kind: marker[1] ?? '', name: marker[2], lines: [] };
      out.push(current);
      continue;
    }
    if (!inFence && /^#{1,6} /.test(line)) current = undefined;
    current?.lines.push(line);
  }
  return out;
}

/** The first ```<language> block of a section, as printed. */
function firstBlock(lines: string[], language = 'json'): string | undefined {
  const start = lines.findIndex((l) => l.trim() === `\`\`\`${language}`);
  if (start < 0) return undefined;
  const end = lines.findIndex((l, i) => i > start && l.trim() === '```');
  if (end < 0) throw new RecipeFormatError(`unterminated \`\`\`${language} block`);
  return lines.slice(start + 1, end).join('\n');
}

/** Text of a section outside its code blocks. */
function prose(lines: string[]): string {
  let inFence = false;
  return lines
    .filter((l) => {
      if (l.startsWith('```')) {
        inFence = !inFence;
        return false;
      }
      return !inFence;
    })
    .join('\n');
}

export function parseReadmeRecipes(markdown: string): ReadmeRecipes {
  const recipes = new Map<string, ReadmeRecipe>();
  const conditions = new Map<string, string>();
  const codeNodes = new Map<string, string>();
  let headers: Record<string, string> | undefined;
  for (const section of sections(markdown)) {
    if (section.kind === 'recipe-headers') {
      const block = firstBlock(section.lines);
      if (!block) throw new RecipeFormatError('recipe-headers has no ```json block');
      headers = JSON.parse(block) as Record<string, string>;
      continue;
    }
    const name = section.name;
    if (!name) throw new RecipeFormatError(`a ${section.kind} marker has no name`);
    if (section.kind === 'recipe-code') {
      const code = firstBlock(section.lines, 'js');
      if (!code) throw new RecipeFormatError(`code node ${name} has no \`\`\`js block`);
      codeNodes.set(name, code);
      continue;
    }
    const text = prose(section.lines);
    if (section.kind === 'recipe-condition') {
      const condition = /`([^`]+)`/.exec(text)?.[1];
      if (!condition) throw new RecipeFormatError(`condition ${name} has no inline code`);
      conditions.set(name, condition);
      continue;
    }
    if (recipes.has(name)) throw new RecipeFormatError(`recipe ${name} is marked twice`);
    const request = REQUEST_LINE.exec(text);
    if (!request) throw new RecipeFormatError(`recipe ${name} has no \`GET|POST <ApiUrl>…\` request line`);
    const storageKey = STORAGE_KEY.exec(text)?.[1];
    if (!storageKey) throw new RecipeFormatError(`recipe ${name} names no storage key`);
    const method = request[1] as 'GET' | 'POST';
    const bodyText = firstBlock(section.lines);
    if (method === 'POST' && bodyText === undefined)
      throw new RecipeFormatError(`recipe ${name} (POST) has no \`\`\`json body`);
    recipes.set(name, {
      name,
      method,
      url: request[2] ?? '',
      storageKey,
      ...(method === 'POST' ? { bodyText } : {}),
    });
  }
  if (!headers) throw new RecipeFormatError('no <!-- recipe-headers --> block');
  return { recipes, headers, conditions, codeNodes };
}

export function readmeRecipes(file = README_PATH): ReadmeRecipes {
  return parseReadmeRecipes(readFileSync(file, 'utf8'));
}

/** The value at a dotted path such as `context.sms.messageId` (undefined when any step is missing). */
export function lookup(scope: CognigyScope, dotted: string): unknown {
  let current: unknown = scope;
  for (const part of dotted.trim().split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** `{{path}}` tokens in a string, rendered as Cognigy does: the value as text, "" when unset. */
export function renderTokens(text: string, scope: CognigyScope): string {
  return text.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_token, dotted: string) => {
    const value = lookup(scope, dotted);
    if (value === undefined || value === null) return '';
    return typeof value === 'object' ? JSON.stringify(value) : String(value as string | number | boolean);
  });
}

function renderValue(value: unknown, scope: CognigyScope): unknown {
  if (typeof value === 'string') return renderTokens(value, scope);
  if (Array.isArray(value)) return value.map((v) => renderValue(v, scope));
  if (value !== null && typeof value === 'object') {
    const cs = (value as { $cs?: { script?: unknown } }).$cs;
    if (cs && typeof cs.script === 'string') return lookup(scope, cs.script) ?? '';
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderValue(v, scope)]));
  }
  return value;
}

/** The JSON body a node sends: the printed JSON (which must parse as it is), with its tokens rendered. */
export function renderBody(bodyText: string, scope: CognigyScope): unknown {
  return renderValue(JSON.parse(bodyText), scope);
}

export function renderUrl(url: string, scope: CognigyScope, deployment: Deployment): string {
  return renderTokens(url.replace('<ApiUrl>', deployment.apiUrl), scope);
}

export function renderHeaders(
  headers: Record<string, string>,
  deployment: Deployment,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, value.replace('<API key>', deployment.apiKey)]),
  );
}

/** An If node's condition over the session (CognigyScript conditions are JavaScript expressions). */
export function evaluateCondition(condition: string, scope: CognigyScope): boolean {
  // Test-only: the condition is the README's own text, evaluated as Cognigy would evaluate it.
  const evaluate = new Function('input', 'context', 'profile', `"use strict"; return (${condition});`) as (
    input: unknown,
    context: unknown,
    profile: unknown,
  ) => unknown;
  return Boolean(evaluate(scope.input, scope.context, scope.profile));
}

/**
 * Runs a Code node over the session as Cognigy would: `input` and `context` as objects, `api.addToInput` and
 * `api.addToContext` writing into them.
 */
export function runCodeNode(code: string, scope: CognigyScope): void {
  const api = {
    addToInput: (key: string, value: unknown) => {
      scope.input[key] = value;
    },
    addToContext: (key: string, value: unknown) => {
      scope.context[key] = value;
    },
  };
  // Test-only, as evaluateCondition: the README's own code.
  const run = new Function('input', 'context', 'profile', 'api', `"use strict";\n${code}`) as (
    ...args: unknown[]
  ) => void;
  run(scope.input, scope.context, scope.profile, api);
}

export interface RecipeAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  /** What was sent, for the test's messages and the OpenAPI request check. */
  request: { method: string; url: string; path: string; body?: unknown };
}

/**
 * Runs a recipe as an HTTP Request node does: renders URL, headers and body from the session, sends it, and stores
 * the parsed answer in `context.<storageKey>` (the node's Storage option).
 */
export async function runRecipe(
  all: ReadmeRecipes,
  name: string,
  scope: CognigyScope,
  deployment: Deployment,
): Promise<RecipeAnswer> {
  const recipe = all.recipes.get(name);
  if (!recipe) throw new RecipeFormatError(`no recipe named ${name}`);
  const url = renderUrl(recipe.url, scope, deployment);
  const body = recipe.bodyText === undefined ? undefined : renderBody(recipe.bodyText, scope);
  const response = await fetch(url, {
    method: recipe.method,
    headers: renderHeaders(all.headers, deployment),
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  const parsed = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  scope.context[recipe.storageKey] = parsed;
  const { pathname } = new URL(url);
  return {
    status: response.status,
    headers: response.headers,
    body: parsed,
    request: { method: recipe.method, url, path: pathname, ...(body !== undefined ? { body } : {}) },
  };
}
