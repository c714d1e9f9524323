import { ApplicationConfig } from '@nestjs/core';
import { inCheckedRange, installedNestVersion, NEST_CHECKED_RANGE, viewOf } from './nest-internals';

describe('the lean lane\'s reading of Nest', () => {
  it('the installed @nestjs/core is within the range the lane was checked against (widen it only after re-checking nest-internals.ts)', () => {
    const version = installedNestVersion();
    expect({ version, inRange: inCheckedRange(version) }).toEqual({ version, inRange: true });
  });

  it('the range is half-open and needs a version it can read', () => {
    expect(inCheckedRange(NEST_CHECKED_RANGE.from)).toBe(true);
    expect(inCheckedRange(NEST_CHECKED_RANGE.below)).toBe(false);
    expect(inCheckedRange('11.9.9')).toBe(false);
    expect(inCheckedRange('13.0.0')).toBe(false);
    expect(inCheckedRange(undefined)).toBe(false);
    expect(inCheckedRange('next')).toBe(false);
  });

  it('reads an app shaped as in the checked versions, and refuses any other shape', () => {
    const app = (fields: Record<string, unknown>) => fields as never;
    const config = new ApplicationConfig();
    expect(viewOf(app({ config, enabledSecurityFeatures: new Set(), isInitialized: true }))).toMatchObject({ ok: true, initialized: true });
    expect(viewOf(app({ enabledSecurityFeatures: new Set(), isInitialized: true }))).toMatchObject({ ok: false });
    expect(viewOf(app({ config, enabledSecurityFeatures: ['useSecurityHeaders'], isInitialized: true }))).toMatchObject({ ok: false });
    expect(viewOf(app({ config, enabledSecurityFeatures: new Set() }))).toMatchObject({ ok: false });
    // A kind of global setting Nest did not have when the lane was checked.
    class NewerConfig extends ApplicationConfig {
      getGlobalResponseHooks(): unknown[] { return []; }
    }
    expect(viewOf(app({ config: new NewerConfig(), enabledSecurityFeatures: new Set(), isInitialized: true })))
      .toEqual({ ok: false, reason: 'Nest has settings the lane was not checked against: getGlobalResponseHooks' });
  });
});
