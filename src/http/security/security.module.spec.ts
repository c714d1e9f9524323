import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { NodeUrlPolicy } from './node-url-policy';
import { SECURITY_MODULE_OPTIONS, type SecurityModuleOptions } from './security.module-definition';
import { SecurityModule } from './security.module';

@Injectable()
class OptionsFactory {
  create(): SecurityModuleOptions {
    return { allowedNodeCidrs: ['10.0.0.0/8'] };
  }
}
@Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
class FactoryModule {}

async function resolve(imports: unknown[]): Promise<NodeUrlPolicy> {
  const ref = await Test.createTestingModule({ imports: imports as never[] }).compile();
  return ref.get(NodeUrlPolicy);
}

describe('SecurityModule', () => {
  it('forRoot({}) resolves an unrestricted policy', async () => {
    const p = await resolve([SecurityModule.forRoot({})]);
    expect(p.restricted).toBe(false);
  });

  it('forRoot with a list', async () => {
    const p = await resolve([SecurityModule.forRoot({ allowedNodeCidrs: ['10.0.0.0/8'] })]);
    expect(p.restricted).toBe(true);
    await expect(p.check('http://127.0.0.1:1')).rejects.toThrow(/outside/);
  });

  it('forRootAsync with useFactory', async () => {
    const p = await resolve([SecurityModule.forRootAsync({ useFactory: () => ({ allowedNodeCidrs: ['10.0.0.0/8'] }) })]);
    expect(p.restricted).toBe(true);
  });

  it('forRootAsync with useClass', async () => {
    const p = await resolve([SecurityModule.forRootAsync({ useClass: OptionsFactory })]);
    await expect(p.check('http://10.0.0.1:1')).resolves.toBeUndefined();
    expect(p.restricted).toBe(true);
  });

  it('forRootAsync with useExisting', async () => {
    const p = await resolve([SecurityModule.forRootAsync({ imports: [FactoryModule], useExisting: OptionsFactory })]);
    expect(p.restricted).toBe(true);
  });

  it('is global by default: a sibling module injects the policy', async () => {
    @Injectable()
    class Consumer {
      constructor(readonly policy: NodeUrlPolicy) {}
    }
    @Module({ providers: [Consumer] })
    class Sibling {}
    const ref = await Test.createTestingModule({ imports: [SecurityModule.forRoot({}), Sibling] }).compile();
    expect(ref.get(Consumer).policy).toBeInstanceOf(NodeUrlPolicy);
    expect(ref.get(SECURITY_MODULE_OPTIONS)).toEqual({});
  });
});
