// firmware-scripts/prepare-sd against synthetic Raspberry Pi OS card images built here with the
// real tools (no hardware, no root mount): an MBR (sfdisk), a FAT32 `bootfs` (mkfs.vfat at an
// offset, files put in with mtools) holding cmdline.txt and config.txt, and an ext4 `rootfs`
// (mkfs.ext4 -d) whose /usr/bin/dash is an arm64 program. Once in cloud-init form (Trixie: cloud-init
// in the root, seed files on FAT), once in firstrun form (Bookworm). The result is read back
// with mtools and checked by the tools a board would use: fsck.vfat, e2fsck, `cloud-init schema`,
// cloud-init's network-config converter, bash -n and shellcheck for firstrun.sh.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeClusterBundle } from '../../../src/node/cluster-bundle.ts';
import { BOOT_SECTORS, BOOT_START, CMDLINE, ROOT_MIB, ROOT_START, SECTOR, bootAt, fakeElfHeader, fatPaths, fatText, makeCard as makePiCard, runTool } from '../../lib/pi-card.ts';

const projectDir = resolve(import.meta.dirname, '..', '..', '..');
const script = join(projectDir, 'firmware-scripts', 'prepare-sd');
const tools = ['sfdisk', 'mkfs.vfat', 'fsck.vfat', 'mcopy', 'mtype', 'mdir', 'mkfs.ext4', 'e2fsck', 'debugfs', 'cloud-init', 'xz', 'shellcheck'];
const missing = tools.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
if (missing.length > 0) throw new Error(`prepare-sd tests need ${missing.join(', ')} (bash scripts/test-host.sh installs them: fdisk dosfstools mtools e2fsprogs cloud-init xz-utils shellcheck)`);

const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAZLLJV0gP1yArUPP94MTEjDDnL15UgR6vR362o9i2F5 teacher@laptop';

const work = mkdtempSync(join(tmpdir(), 'bramble-prepare-sd-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** The real single executables when `npm run build` made them; otherwise fake ELF headers, named so. */
function binaries(): { arm64: string; x64: string; real: boolean } {
  const arm64 = join(projectDir, 'dist', 'bramble-linux-arm64');
  const x64 = join(projectDir, 'dist', 'bramble-linux-x64');
  if (existsSync(arm64) && existsSync(x64)) return { arm64, x64, real: true };
  return { arm64: fakeElfHeader(join(work, 'fake-bramble-arm64-elf-header'), 183), x64: fakeElfHeader(join(work, 'fake-bramble-x64-elf-header'), 62), real: false };
}

const run = runTool;
/** A Raspberry Pi OS card image in the given first-boot form. */
const makeCard = (name: string, form: 'cloud-init' | 'firstrun'): string => makePiCard(work, name, form);

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function prepareSd(args: string[]): Run {
  const result = spawnSync(script, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every file on the FAT partition, path -> sha256 (read back with mtools). */
function fatFiles(image: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const path of fatPaths(image)) {
    const out = join(work, 'fat-read');
    rmSync(out, { force: true });
    run('mcopy', ['-n', '-i', bootAt(image), `::${path}`, out]);
    files.set(path, createHash('sha256').update(readFileSync(out)).digest('hex'));
  }
  return files;
}

/** sha256sum streams: the images are hundreds of MB (sparse). */
const fileSha = (path: string): string => run('sha256sum', [path]).split(' ')[0]!;

function rootfsSha(image: string): string {
  const buffer = Buffer.alloc(ROOT_MIB << 20);
  const fd = openSync(image, 'r');
  try {
    readSync(fd, buffer, 0, buffer.length, ROOT_START * SECTOR);
  } finally {
    closeSync(fd);
  }
  return createHash('sha256').update(buffer).digest('hex');
}

/** fsck.vfat has no offset option: it checks a copy of the partition. */
function checkFileSystems(image: string): void {
  const part = join(work, 'bootfs.part');
  run('dd', [`if=${image}`, `of=${part}`, `skip=${BOOT_START}`, `count=${BOOT_SECTORS}`, 'conv=sparse', 'status=none']);
  const fsck = spawnSync('fsck.vfat', ['-n', part], { encoding: 'utf8' });
  rmSync(part, { force: true });
  assert.equal(fsck.status, 0, `fsck.vfat: ${fsck.stdout}${fsck.stderr}`);
  assert.doesNotMatch(fsck.stdout, /differ|corrupt|Free cluster summary wrong|Dirty bit/i);
  const e2fsck = spawnSync('e2fsck', ['-fn', `${image}?offset=${ROOT_START * SECTOR}`], { encoding: 'utf8' });
  assert.equal(e2fsck.status, 0, `e2fsck: ${e2fsck.stdout}${e2fsck.stderr}`);
}

let bundleDir = '';
let bins: ReturnType<typeof binaries>;
let sshKey = '';
let wifiFile = '';
let imageTar = '';

before(async () => {
  bundleDir = (await writeClusterBundle(join(work, 'cluster'), 'https://10.0.0.1:6443')).dir;
  bins = binaries();
  sshKey = join(work, 'teacher.pub');
  writeFileSync(sshKey, `${SSH_KEY}\n`);
  wifiFile = join(work, 'wifi-passphrase');
  writeFileSync(wifiFile, "it's a secret: \"x\"\n", { mode: 0o600 });
  // A `docker save`-shaped tarball (manifest.json first), made with tar: what --images accepts.
  const tarDir = join(work, 'tar-src');
  mkdirSync(tarDir);
  writeFileSync(join(tarDir, 'manifest.json'), '[{"Config":"c.json","RepoTags":["busybox:offline"],"Layers":[]}]');
  imageTar = join(work, 'busybox-offline.tar');
  execFileSync('tar', ['-cf', imageTar, '-C', tarDir, 'manifest.json']);
});

function commonArgs(binary: string): string[] {
  return ['--binary', binary, '--user', 'student', '--ssh-key', sshKey, '--wifi-ssid', "Room 'B'", '--wifi-passphrase-file', wifiFile, '--wifi-country', 'GB', '--env', 'BRAMBLE_BOOTSTRAP_EXPECT=3', '--images', imageTar];
}

function assertOneCmdline(image: string, mustHave: string[], mustNot: string[]): string {
  const text = fatText(image, '/cmdline.txt');
  assert.equal(text.split('\n').length, 2, `cmdline.txt is one line: ${JSON.stringify(text)}`);
  assert.ok(text.endsWith('\n'));
  assert.ok(text.startsWith(CMDLINE), 'the image\'s own words stay first, unchanged');
  const words = text.trim().split(' ');
  for (const word of mustHave) assert.equal(words.filter((w) => w === word).length, 1, `${word} once in ${text}`);
  for (const word of mustNot) assert.ok(!text.includes(word), `${word} not in ${text}`);
  return text;
}

function assertBrambleFiles(image: string, name: string): void {
  const files = fatFiles(image);
  for (const file of ['ca.crt', 'ca.key', 'token', 'cluster.json']) assert.equal(files.get(`/bramble/bundle/${file}`), fileSha(join(bundleDir, file)), `bundle ${file}`);
  assert.equal(files.get('/bramble/bramble'), fileSha(bins.arm64), 'the arm64 binary, byte for byte');
  assert.equal(files.get('/bramble/images/busybox-offline.tar'), fileSha(imageTar));
  assert.equal(files.get('/bramble/bramble.service'), fileSha(join(projectDir, 'firmware-scripts', 'bramble.service')));
  assert.equal(fatText(image, '/bramble/env'), `# /etc/bramble/env: one BRAMBLE_<FLAG>=value per \`bramble up\` flag (written by prepare-sd)\nBRAMBLE_NAME=${name}\nBRAMBLE_BUNDLE=/etc/bramble/bundle\nBRAMBLE_BOOTSTRAP_EXPECT=3\n`);
}

describe('prepare-sd on a synthetic Raspberry Pi OS image', { timeout: 600_000 }, () => {
  test('cloud-init form (Trixie): NoCloud seed files the real cloud-init accepts, cmdline one line, a second run changes nothing', (t) => {
    t.diagnostic(bins.real ? 'binary: dist/bramble-linux-arm64 (the real single executable)' : 'binary: fake-bramble-arm64-elf-header (dist/ not built: npm run build)');
    const image = makeCard('trixie', 'cloud-init');
    const rootBefore = rootfsSha(image);
    const first = prepareSd([...commonArgs(bins.arm64), '--bundle', bundleDir, '--hostname', 'pi-1', image]);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /pi-1: wrote cloud-init first boot \(user-data, meta-data, network-config\), bramble \(arm64\), the cluster bundle, Wi-Fi Room 'B', 1 image tarball\(s\)/);
    assertBrambleFiles(image, 'pi-1');
    assertOneCmdline(image, ['cgroup_enable=memory', 'cgroup_memory=1', 'cfg80211.ieee80211_regdom=GB'], ['systemd.run']);

    const userData = join(work, 'user-data');
    writeFileSync(userData, fatText(image, '/user-data'));
    const schema = spawnSync('cloud-init', ['schema', '--config-file', userData], { encoding: 'utf8' });
    assert.equal(schema.status, 0, `cloud-init schema: ${schema.stdout}${schema.stderr}`);
    assert.match(schema.stdout, /Valid cloud-config/);
    const userDataText = readFileSync(userData, 'utf8');
    assert.match(userDataText, /^hostname: pi-1$/m);
    assert.ok(userDataText.includes(`      - '${SSH_KEY}'`));
    assert.match(userDataText, /- \[bash, \/boot\/firmware\/bramble\/install\.sh, --now\]/);
    assert.equal(fatText(image, '/meta-data'), 'instance-id: bramble-pi-1\nlocal-hostname: pi-1\n');

    const networkConfig = join(work, 'network-config');
    writeFileSync(networkConfig, fatText(image, '/network-config'));
    const converted = join(work, 'net-out');
    rmSync(converted, { recursive: true, force: true });
    const convert = spawnSync('cloud-init', ['devel', 'net-convert', '-p', networkConfig, '-k', 'yaml', '-d', converted, '-D', 'debian', '-O', 'netplan'], { encoding: 'utf8' });
    assert.equal(convert.status, 0, `net-convert: ${convert.stdout}${convert.stderr}`);
    const netplan = readFileSync(join(converted, 'etc', 'netplan', '50-cloud-init.yaml'), 'utf8');
    assert.match(netplan, /Room 'B'/);
    assert.match(netplan, /password: 'it''s a secret: "x"'|password: it's a secret: "x"/);

    checkFileSystems(image);
    assert.equal(rootfsSha(image), rootBefore, 'the root file system is only read');

    const before = fatFiles(image);
    const second = prepareSd([...commonArgs(bins.arm64), '--bundle', bundleDir, '--hostname', 'pi-1', image]);
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(fatFiles(image), before, 'the second run leaves the same files with the same bytes');
    checkFileSystems(image);
  });

  test('firstrun form (Bookworm): firstrun.sh on cmdline.txt, valid bash, shellcheck-clean; idempotent; a token instead of the bundle', () => {
    const image = makeCard('bookworm', 'firstrun');
    const token = readFileSync(join(bundleDir, 'token'), 'utf8').trim();
    const args = [...commonArgs(bins.arm64), '--token', token, '--hostname', 'pi-21', image];
    const first = prepareSd(args);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /pi-21: wrote firstrun first boot \(firstrun\.sh on cmdline\.txt\), bramble \(arm64\), the join token/);
    const files = fatFiles(image);
    assert.ok(files.has('/firstrun.sh') && !files.has('/user-data') && !files.has('/bramble/bundle/ca.key'), [...files.keys()].join(' '));
    assert.equal(fatText(image, '/bramble/env').split('\n')[2], `BRAMBLE_TOKEN=${token}`);
    assertOneCmdline(image, ['cgroup_enable=memory', 'cgroup_memory=1', 'systemd.run=/boot/firmware/firstrun.sh', 'systemd.run_success_action=reboot', 'systemd.unit=kernel-command-line.target'], []);
    const firstrun = join(work, 'firstrun.sh');
    writeFileSync(firstrun, fatText(image, '/firstrun.sh'));
    assert.equal(spawnSync('bash', ['-n', firstrun]).status, 0);
    const lint = spawnSync('shellcheck', ['-s', 'bash', firstrun], { encoding: 'utf8' });
    assert.equal(lint.status, 0, lint.stdout);
    // The values come back exactly as given when bash reads them (quoting of the SSID and the passphrase).
    const values = run('bash', ['-c', `eval "$(sed -n '/^boot=/,/^wifi_pass=/p' ${firstrun})"; printf '%s|' "$host_name" "$user_name" "$wifi_ssid" "$wifi_pass" "$ssh_keys"`]);
    assert.equal(values, `pi-21|student|Room 'B'|it's a secret: "x"|${SSH_KEY}|`);
    checkFileSystems(image);

    const before = fatFiles(image);
    assert.equal(prepareSd(args).status, 0);
    assert.deepEqual(fatFiles(image), before);
    assertOneCmdline(image, ['systemd.run=/boot/firmware/firstrun.sh'], []);
    // A later run without --images leaves no tarball of the earlier one behind.
    const withoutImages = args.filter((arg, i) => arg !== '--images' && args[i - 1] !== '--images');
    assert.equal(prepareSd(withoutImages).status, 0);
    const after = fatFiles(image);
    assert.deepEqual([...after.keys()].filter((path) => path.startsWith('/bramble/images')), []);
    assert.deepEqual([...after.keys()].filter((path) => !path.startsWith('/bramble/images')), [...before.keys()].filter((path) => !path.startsWith('/bramble/images')));
  });

  test('a classroom: one .img.xz and a hostname pattern make one image per board', () => {
    const image = makeCard('classroom', 'cloud-init');
    run('xz', ['-0', '-T1', image]);
    const out = join(work, 'cards');
    const result = prepareSd([...commonArgs(bins.arm64), '--bundle', bundleDir, '--hostname', 'pi-{1..3}', '--out', out, `${image}.xz`]);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['pi-1.img', 'pi-2.img', 'pi-3.img']);
    for (const name of ['pi-1', 'pi-2', 'pi-3']) {
      const card = join(out, `${name}.img`);
      assert.match(fatText(card, '/user-data'), new RegExp(`^hostname: ${name}$`, 'm'));
      assert.equal(fatText(card, '/bramble/env').split('\n')[1], `BRAMBLE_NAME=${name}`);
    }
    checkFileSystems(join(out, 'pi-3.img'));
    rmSync(out, { recursive: true, force: true });
  });

  describe('refusals leave the card untouched', () => {
    let image = '';
    let pristine = '';
    /** The image's modification time, its FAT files and its root file system: what a write would change. */
    const state = (path: string): string => JSON.stringify([statSync(path).mtimeMs, [...fatFiles(path)], rootfsSha(path)]);
    before(() => {
      image = makeCard('refusals', 'cloud-init');
      pristine = state(image);
    });
    const cases: [string, () => string[], number, () => RegExp][] = [
      ['no bundle and no token', () => [...commonArgs(bins.arm64), '--hostname', 'pi-1', image], 2, () => /^prepare-sd: give exactly one of --bundle DIR \(first boards\) or --token\/--token-file \(later boards\): the board needs the cluster's identity to join\n/],
      ['a directory that is not a bundle', () => [...commonArgs(bins.arm64), '--bundle', work, '--hostname', 'pi-1', image], 1, () => new RegExp(`^prepare-sd: --bundle ${work} is not a cluster bundle: ${work}/ca\\.crt is missing or unreadable`)],
      ['the x86-64 binary for an arm64 image', () => [...commonArgs(bins.x64), '--bundle', bundleDir, '--hostname', 'pi-1', image], 1, () => new RegExp(`^prepare-sd: ${image} has an arm64 userland but --binary ${bins.x64} is x86-64: give dist/bramble-linux-arm64; nothing was written\\n$`)],
      ['an unreadable Wi-Fi passphrase file', () => [...commonArgs(bins.arm64).map((arg) => (arg === wifiFile ? join(work, 'no-such-file') : arg)), '--bundle', bundleDir, '--hostname', 'pi-1', image], 1, () => new RegExp(`^prepare-sd: --wifi-passphrase-file ${work}/no-such-file cannot be read\\n$`)],
      ['the bundle without a way to form the cluster', () => [...commonArgs(bins.arm64).filter((arg) => arg !== '--env' && arg !== 'BRAMBLE_BOOTSTRAP_EXPECT=3'), '--bundle', bundleDir, '--hostname', 'pi-1', image], 2, () => /^prepare-sd: a board with --bundle must know how the cluster forms: add --env BRAMBLE_BOOTSTRAP_EXPECT=N /],
      ['a hostname that is no node name', () => [...commonArgs(bins.arm64), '--bundle', bundleDir, '--hostname', 'Pi_1', image], 2, () => /^prepare-sd: hostname "Pi_1" is not valid: lower-case letters, digits and '-'/],
      ['two hostnames for one image without --out', () => [...commonArgs(bins.arm64), '--bundle', bundleDir, '--hostname', 'pi-1', 'pi-2', image], 2, () => /^prepare-sd: 2 hostnames need --out DIR \(one image per hostname\)\n/],
      ['a file that is no image', () => [...commonArgs(bins.arm64), '--bundle', bundleDir, '--hostname', 'pi-1', wifiFile], 1, () => new RegExp(`^prepare-sd: ${wifiFile} has no partition table: is it a Raspberry Pi OS image\\?\\n$`)],
    ];
    for (const [what, args, code, message] of cases) {
      test(what, () => {
        const result = prepareSd(args());
        assert.equal(result.status, code, result.stderr);
        assert.match(result.stderr, message());
        assert.equal(state(image), pristine, 'the image is what it was');
      });
    }

    test('a card in a reader (a loop device): asks first, refuses without a terminal, writes with --yes', (t) => {
      if (process.getuid?.() !== 0 || !existsSync('/dev/loop-control')) {
        t.skip('needs root and loop devices (losetup)');
        return;
      }
      const copy = join(work, 'reader.img');
      run('cp', ['--sparse=always', image, copy]);
      const device = run('losetup', ['--find', '--show', copy]).trim();
      try {
        const asked = prepareSd([...commonArgs(bins.arm64), '--bundle', bundleDir, '--hostname', 'pi-7', device]);
        assert.equal(asked.status, 1);
        assert.equal(asked.stderr, `prepare-sd: ${device}: not asking on a non-interactive input: add --yes to write to it\n`);
        assert.equal(JSON.stringify([...fatFiles(copy)]), JSON.stringify([...fatFiles(image)]));
        const written = prepareSd([...commonArgs(bins.arm64), '--bundle', bundleDir, '--hostname', 'pi-7', '--yes', device]);
        assert.equal(written.status, 0, written.stderr);
        assert.match(written.stdout, new RegExp(`pi-7: wrote cloud-init first boot .* to ${device}\n`));
      } finally {
        spawnSync('losetup', ['-d', device]);
      }
      assert.match(fatText(copy, '/user-data'), /^hostname: pi-7$/m);
      checkFileSystems(copy);
      rmSync(copy, { force: true });
    });

    test('a mounted card (a loop device with its root partition mounted)', (t) => {
      if (process.getuid?.() !== 0 || !existsSync('/dev/loop-control')) {
        t.skip('needs root and loop devices (losetup, mount)');
        return;
      }
      const device = run('losetup', ['--find', '--show', '--partscan', image]).trim();
      const mountPoint = join(work, 'mnt');
      let madeNode = '';
      mkdirSync(mountPoint, { recursive: true });
      try {
        // Without udev (a container) the partition may need partx, and its /dev node mknod.
        const part = `${device}p2`;
        const sysfs = `/sys/class/block/${device.replace('/dev/', '')}p2/dev`;
        if (!existsSync(sysfs)) run('partx', ['-a', device]); // the scan losetup asked for may not have run
        if (!existsSync(part)) {
          const [major, minor] = readFileSync(sysfs, 'utf8').trim().split(':');
          run('mknod', [part, 'b', major!, minor!]);
          madeNode = part;
        }
        run('mount', ['-o', 'ro', part, mountPoint]);
        const result = prepareSd([...commonArgs(bins.arm64), '--bundle', bundleDir, '--hostname', 'pi-1', '--yes', device]);
        assert.equal(result.status, 1, result.stderr);
        assert.equal(result.stderr, `prepare-sd: ${device} is mounted (at ${mountPoint}): unmount it first (sudo umount ${device}*), nothing was written\n`);
      } finally {
        spawnSync('umount', [mountPoint]);
        spawnSync('losetup', ['-d', device]);
        if (madeNode) rmSync(madeNode, { force: true });
      }
      assert.equal(state(image), pristine);
    });
  });
});
