import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** README's "As a library" is examples/user-app's code, and that app pins the floor of the Nest peer range. */
describe('README "As a library" and examples/user-app', () => {
  const readme = read('README.md');
  const section = readme.slice(readme.indexOf('## As a library'), readme.indexOf('\n## ', readme.indexOf('## As a library') + 1));

  it('quotes each file of the app it names, whole and as it is', () => {
    const quoted = [...section.matchAll(/```ts\n\/\/ (examples\/user-app\/\S+)\n([\s\S]*?)```/g)];
    expect(quoted.map(([, path]) => path)).toEqual(expect.arrayContaining(['examples/user-app/src/app.module.ts', 'examples/user-app/src/vip.strategy.ts']));
    for (const [, path, code] of quoted) expect([path, code]).toEqual([path, read(path)]);
    // Every ts block of the section is such a quote: no snippet there can drift from the tested app.
    expect(section.match(/```ts\n/g)).toHaveLength(quoted.length);
  });

  it('pins the app\'s Nest packages to the lowest release of rtp-pool\'s peer ranges', () => {
    const pkg = JSON.parse(read('package.json')) as { peerDependencies: Record<string, string>; peerDependenciesMeta: Record<string, { optional?: boolean }> };
    const app = JSON.parse(read('examples/user-app/package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const appDeps = { ...app.dependencies, ...app.devDependencies };
    const nest = Object.keys(pkg.peerDependencies).filter((n) => n.startsWith('@nestjs/'));
    expect(nest).toEqual(expect.arrayContaining(['@nestjs/common', '@nestjs/core', '@nestjs/platform-express', '@nestjs/testing']));
    for (const name of nest) {
      expect(pkg.peerDependencies[name]).toMatch(/^\^\d+\.\d+\.\d+$/);
      // An optional peer (the Fastify platform) is pinned too when the app has it; an Express app has not.
      if (pkg.peerDependenciesMeta[name]?.optional && appDeps[name] === undefined) continue;
      expect([name, appDeps[name]]).toEqual([name, pkg.peerDependencies[name].slice(1)]);
    }
    expect(appDeps['@nestjs/platform-fastify']).toBeUndefined();
  });
});
