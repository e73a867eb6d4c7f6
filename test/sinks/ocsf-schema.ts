/**
 * A checker of OCSF events against the schema source (the ocsf/ocsf-schema repository layout:
 * dictionary.json, categories.json, events/**, objects/*.json, profiles/*.json), for the tests
 * only: the product never reads the schema.
 *
 * It resolves what the OCSF server resolves, as far as these checks need: `extends` chains
 * (child attributes deep-merged over the parent's), `$include`d profile files (their attributes
 * tagged with the profile, which applies only when `metadata.profiles` names it; `"profile":
 * null` in a class takes an attribute out of its profile), dictionary definitions under each
 * attribute (type, is_array, enum, sibling; class enums merged over dictionary enums), and the
 * generated enums (class_uid, category_uid, type_uid, observable type_id).
 *
 * Checked: required attributes present, no attribute the class or object does not define (or
 * whose profile is not applied), no deprecated attribute, simple types (string, integer, long,
 * timestamp, float, boolean, the string types' regexes, objects recursively, arrays), enum
 * values, enum siblings holding the caption (`severity` of `severity_id`) unless 99 Other, and
 * object constraints (at_least_one, just_one). Recommended attributes missing are listed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface EnumItem {
  caption?: string;
}

export interface AttributeDef {
  requirement?: string;
  type?: string;
  is_array?: boolean;
  enum?: Record<string, EnumItem>;
  sibling?: string;
  profile?: string | null;
  caption?: string;
  observable?: number;
  '@deprecated'?: unknown;
}

interface SourceDoc {
  name: string;
  caption?: string;
  uid?: number;
  category?: string;
  extends?: string;
  meta?: string;
  observable?: number;
  attributes: Record<string, unknown>;
  constraints?: { at_least_one?: string[]; just_one?: string[] };
}

export interface ResolvedEntity {
  name: string;
  caption: string;
  attributes: Map<string, AttributeDef>;
  constraints: { at_least_one?: string[]; just_one?: string[] };
}

export interface CheckResult {
  errors: string[];
  /** Recommended attributes that are absent, as paths (`finding_info.analytic.version`). */
  missingRecommended: string[];
  /** Attribute values checked (leaves and objects). */
  checkedValues: number;
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge: `over` wins; objects (enums, attribute definitions) merge key by key. */
function deepMerge<T>(base: T, over: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = key in out ? deepMerge(out[key], value) : value;
  return out as T;
}

function walkJson(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...walkJson(path));
    else if (entry.name.endsWith('.json')) files.push(path);
  }
  return files;
}

export class OcsfSchema {
  readonly dir: string;
  readonly version: string;
  private readonly dictionary: Record<string, AttributeDef>;
  private readonly types: Record<string, { type?: string; regex?: string; max_len?: number; caption?: string; observable?: number }>;
  private readonly categories: Record<string, { uid: number; caption: string }>;
  private readonly classes = new Map<string, SourceDoc>();
  private readonly objects = new Map<string, SourceDoc>();
  private readonly resolved = new Map<string, ResolvedEntity>();

  constructor(dir: string) {
    this.dir = dir;
    this.version = readJson<{ version: string }>(join(dir, 'version.json')).version;
    const dictionary = readJson<{ attributes: Record<string, AttributeDef>; types: { attributes: SchemaTypes } }>(join(dir, 'dictionary.json'));
    this.dictionary = dictionary.attributes;
    this.types = dictionary.types.attributes;
    this.categories = readJson<{ attributes: Record<string, { uid: number; caption: string }> }>(join(dir, 'categories.json')).attributes;
    for (const file of walkJson(join(dir, 'events'))) {
      const doc = readJson<SourceDoc>(file);
      this.classes.set(doc.name, doc);
    }
    for (const file of readdirSync(join(dir, 'objects'))) {
      if (!file.endsWith('.json')) continue;
      const doc = readJson<SourceDoc>(join(dir, 'objects', file));
      this.objects.set(doc.name, doc);
    }
  }

  static available(dir: string): boolean {
    return existsSync(join(dir, 'dictionary.json')) && existsSync(join(dir, 'events', 'findings', 'detection_finding.json'));
  }

  /** The attributes a document declares itself: its included profiles' first, then its own over them. */
  private ownAttributes(doc: SourceDoc): Map<string, AttributeDef> {
    const attributes = new Map<string, AttributeDef>();
    const includes = (doc.attributes.$include as string[] | undefined) ?? [];
    for (const include of includes) {
      const profile = readJson<SourceDoc>(join(this.dir, include));
      const tag = profile.meta === 'profile' ? profile.name : undefined;
      for (const [name, definition] of Object.entries(profile.attributes)) {
        if (name === '$include') continue;
        attributes.set(name, { ...(definition as AttributeDef), ...(tag === undefined ? {} : { profile: tag }) });
      }
    }
    for (const [name, definition] of Object.entries(doc.attributes)) {
      if (name === '$include') continue;
      attributes.set(name, deepMerge(attributes.get(name) ?? {}, definition));
    }
    return attributes;
  }

  private resolveDoc(doc: SourceDoc, lookup: Map<string, SourceDoc>): { attributes: Map<string, AttributeDef>; constraints: ResolvedEntity['constraints']; category?: string } {
    const parentDoc = doc.extends === undefined ? undefined : lookup.get(doc.extends);
    if (doc.extends !== undefined && parentDoc === undefined) throw new Error(`${doc.name} extends unknown ${doc.extends}`);
    const parent = parentDoc === undefined ? { attributes: new Map<string, AttributeDef>(), constraints: {} } : this.resolveDoc(parentDoc, lookup);
    const attributes = new Map(parent.attributes);
    for (const [name, definition] of this.ownAttributes(doc)) attributes.set(name, deepMerge(attributes.get(name) ?? {}, definition));
    const category = doc.category ?? (parent as { category?: string }).category;
    return { attributes, constraints: doc.constraints ?? parent.constraints, ...(category === undefined ? {} : { category }) };
  }

  /** Each attribute over its dictionary definition. */
  private withDictionary(attributes: Map<string, AttributeDef>): Map<string, AttributeDef> {
    const out = new Map<string, AttributeDef>();
    for (const [name, definition] of attributes) out.set(name, deepMerge(this.dictionary[name] ?? {}, definition));
    return out;
  }

  /** The observable type ids the OCSF server generates: from types, objects and attributes marked `observable`. */
  private observableTypeIds(): Record<string, EnumItem> {
    const ids: Record<string, EnumItem> = { '0': { caption: 'Unknown' }, '99': { caption: 'Other' } };
    for (const [name, type] of Object.entries(this.types)) if (type.observable !== undefined) ids[String(type.observable)] = { caption: type.caption ?? name };
    for (const doc of this.objects.values()) {
      if (doc.observable !== undefined) ids[String(doc.observable)] = { caption: doc.caption ?? doc.name };
      for (const [name, definition] of Object.entries(doc.attributes)) {
        const observable = (definition as AttributeDef | undefined)?.observable;
        if (observable !== undefined) ids[String(observable)] = { caption: `${doc.caption ?? doc.name} ${name}` };
      }
    }
    for (const [name, definition] of Object.entries(this.dictionary)) if (definition.observable !== undefined) ids[String(definition.observable)] = { caption: definition.caption ?? name };
    return ids;
  }

  object(name: string): ResolvedEntity {
    const key = `object:${name}`;
    const cached = this.resolved.get(key);
    if (cached !== undefined) return cached;
    const doc = this.objects.get(name);
    if (doc === undefined) throw new Error(`unknown OCSF object ${name}`);
    const { attributes, constraints } = this.resolveDoc(doc, this.objects);
    const merged = this.withDictionary(attributes);
    if (name === 'observable') {
      const typeId = merged.get('type_id');
      if (typeId !== undefined) merged.set('type_id', { ...typeId, enum: { ...this.observableTypeIds(), ...typeId.enum } });
    }
    const entity = { name, caption: doc.caption ?? name, attributes: merged, constraints };
    this.resolved.set(key, entity);
    return entity;
  }

  /** An event class, resolved, with class_uid, category_uid and type_uid enums as the server generates them. */
  eventClass(name: string): ResolvedEntity & { uid: number; categoryUid: number } {
    const doc = this.classes.get(name);
    if (doc === undefined || doc.uid === undefined) throw new Error(`unknown OCSF class ${name}`);
    const { attributes, constraints, category } = this.resolveDoc(doc, this.classes);
    const categoryInfo = category === undefined ? undefined : this.categories[category];
    if (categoryInfo === undefined) throw new Error(`class ${name} has no category`);
    const uid = categoryInfo.uid * 1000 + doc.uid;
    const merged = this.withDictionary(attributes);
    const caption = doc.caption ?? name;
    const activities = merged.get('activity_id')?.enum ?? {};
    const set = (attribute: string, values: Record<string, EnumItem>): void => {
      const definition = merged.get(attribute);
      if (definition !== undefined) merged.set(attribute, { ...definition, enum: values });
    };
    set('class_uid', { [String(uid)]: { caption } });
    set('category_uid', { [String(categoryInfo.uid)]: { caption: categoryInfo.caption } });
    set('type_uid', Object.fromEntries(Object.entries(activities).map(([id, item]) => [String(uid * 100 + Number(id)), { caption: `${caption}: ${item.caption ?? id}` }])));
    return { name, caption, attributes: merged, constraints, uid, categoryUid: categoryInfo.uid };
  }

  /** Checks one event of `className`; profiles are read from its `metadata.profiles`. */
  checkEvent(event: unknown, className: string): CheckResult {
    const result: CheckResult = { errors: [], missingRecommended: [], checkedValues: 0 };
    if (!isPlainObject(event)) {
      result.errors.push('the event is not an object');
      return result;
    }
    const metadata = event.metadata;
    const profiles = new Set(isPlainObject(metadata) && Array.isArray(metadata.profiles) ? (metadata.profiles as string[]) : []);
    this.checkEntity(event, this.eventClass(className), '', profiles, result);
    return result;
  }

  private checkEntity(value: Record<string, unknown>, entity: ResolvedEntity, path: string, profiles: Set<string>, result: CheckResult): void {
    const at = (name: string): string => (path === '' ? name : `${path}.${name}`);
    const applies = (definition: AttributeDef): boolean => definition.profile === undefined || definition.profile === null || profiles.has(definition.profile);
    for (const [name, definition] of entity.attributes) {
      if (!applies(definition)) continue;
      const present = value[name] !== undefined && value[name] !== null;
      if (definition.requirement === 'required' && !present) result.errors.push(`${at(name)}: required by ${entity.name}, missing`);
      if (definition.requirement === 'recommended' && !present) result.missingRecommended.push(at(name));
    }
    for (const [name, item] of Object.entries(value)) {
      const definition = entity.attributes.get(name);
      if (definition === undefined) {
        result.errors.push(`${at(name)}: ${entity.name} has no attribute ${name}`);
        continue;
      }
      if (!applies(definition)) {
        result.errors.push(`${at(name)}: belongs to the ${definition.profile} profile, which metadata.profiles does not name`);
        continue;
      }
      if (definition['@deprecated'] !== undefined) result.errors.push(`${at(name)}: deprecated`);
      this.checkValue(item, definition, at(name), profiles, result);
      if (definition.enum !== undefined && definition.sibling !== undefined && value[definition.sibling] !== undefined && String(item) !== '99') {
        const caption = definition.enum[String(item)]?.caption;
        if (caption !== undefined && value[definition.sibling] !== caption) result.errors.push(`${at(definition.sibling)}: ${JSON.stringify(value[definition.sibling])} is not the caption of ${name} ${String(item)} (${caption})`);
      }
    }
    const present = (name: string): boolean => value[name] !== undefined && value[name] !== null;
    const atLeastOne = entity.constraints.at_least_one;
    if (atLeastOne !== undefined && !atLeastOne.some(present)) result.errors.push(`${path || '(event)'}: ${entity.name} needs at least one of ${atLeastOne.join(', ')}`);
    const justOne = entity.constraints.just_one;
    if (justOne !== undefined && justOne.filter(present).length !== 1) result.errors.push(`${path || '(event)'}: ${entity.name} needs exactly one of ${justOne.join(', ')}`);
  }

  private checkValue(value: unknown, definition: AttributeDef, path: string, profiles: Set<string>, result: CheckResult): void {
    if (definition.is_array === true) {
      if (!Array.isArray(value)) {
        result.errors.push(`${path}: must be an array`);
        return;
      }
      value.forEach((item, index) => this.checkScalar(item, definition, `${path}[${index}]`, profiles, result));
      return;
    }
    this.checkScalar(value, definition, path, profiles, result);
  }

  private checkScalar(value: unknown, definition: AttributeDef, path: string, profiles: Set<string>, result: CheckResult): void {
    result.checkedValues += 1;
    const type = definition.type;
    if (type === undefined) {
      result.errors.push(`${path}: the schema gives no type`);
      return;
    }
    if (type === 'object') {
      if (!isPlainObject(value)) result.errors.push(`${path}: must be an object`);
      return;
    }
    if (this.objects.has(type)) {
      if (!isPlainObject(value)) result.errors.push(`${path}: must be an object (${type})`);
      else this.checkEntity(value, this.object(type), path, profiles, result);
      return;
    }
    // A data type: follow `type` down to the base type, collecting the constraints on the way.
    let base = type;
    const regexes: string[] = [];
    let maxLength: number | undefined;
    for (let guard = 0; guard < 5; guard++) {
      const info = this.types[base];
      if (info === undefined) break;
      if (info.regex !== undefined) regexes.push(info.regex);
      if (info.max_len !== undefined) maxLength = info.max_len;
      if (info.type === undefined) break;
      base = info.type;
    }
    const fail = (what: string): void => {
      result.errors.push(`${path}: ${JSON.stringify(value)} is not ${what} (${type})`);
    };
    switch (base) {
      case 'string_t':
        if (typeof value !== 'string') fail('a string');
        else {
          for (const regex of regexes) if (!new RegExp(regex).test(value)) fail(`matching the ${type} pattern`);
          if (maxLength !== undefined && value.length > maxLength) fail(`at most ${maxLength} characters`);
        }
        break;
      case 'integer_t':
      case 'long_t':
        if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail('an integer');
        break;
      case 'float_t':
        if (typeof value !== 'number' || !Number.isFinite(value)) fail('a number');
        break;
      case 'boolean_t':
        if (typeof value !== 'boolean') fail('a boolean');
        break;
      case 'json_t':
        break;
      default:
        result.errors.push(`${path}: unknown type ${type}`);
    }
    if (type === 'timestamp_t' && typeof value === 'number' && value < 1e11) fail('a timestamp in milliseconds');
    if (definition.enum !== undefined && Object.keys(definition.enum).length > 0 && (typeof value === 'number' || typeof value === 'string') && !Object.hasOwn(definition.enum, String(value))) {
      fail(`one of ${Object.keys(definition.enum).join(', ')}`);
    }
  }
}

type SchemaTypes = Record<string, { type?: string; regex?: string; max_len?: number; caption?: string; observable?: number }>;
