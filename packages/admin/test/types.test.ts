import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type {
  DomainSettings,
  DomainSettingsSource,
  domainSettingsSchema,
  StoreSettingsSource,
  TransactionRecord,
  transactionRecordSchema,
} from '../src/index.js';

type Defined<T> = { [K in keyof T]-?: Exclude<T[K], undefined> };

describe('the public types', () => {
  it('keeps the settings schema and the DomainSettings interface in step', () => {
    type Parsed = z.infer<typeof domainSettingsSchema>;
    expectTypeOf<Defined<Parsed>['destination']>().toEqualTypeOf<DomainSettings['destination']>();
    expectTypeOf<Defined<Parsed>['tls']>().toEqualTypeOf<Exclude<DomainSettings['tls'], undefined>>();
    expectTypeOf<keyof Parsed>().toEqualTypeOf<keyof DomainSettings>();
    expectTypeOf<keyof NonNullable<Parsed['scanners']>>().toEqualTypeOf<
      keyof NonNullable<DomainSettings['scanners']>
    >();
    expectTypeOf<keyof NonNullable<Parsed['thresholds']>>().toEqualTypeOf<
      keyof NonNullable<DomainSettings['thresholds']>
    >();
  });

  it('keeps the record schema and the TransactionRecord interface in step', () => {
    type Parsed = z.infer<typeof transactionRecordSchema>;
    expectTypeOf<keyof Parsed>().toEqualTypeOf<keyof TransactionRecord>();
    expectTypeOf<Parsed['direction']>().toEqualTypeOf<TransactionRecord['direction']>();
  });

  it('gives relays a source they can use where a DomainSettingsSource is expected', () => {
    expectTypeOf<StoreSettingsSource>().toExtend<DomainSettingsSource>();
    // @ts-expect-error: a direction other than inbound or outbound does not compile
    const bad: TransactionRecord['direction'] = 'sideways';
    expectTypeOf(bad).not.toBeNever();
  });
});
