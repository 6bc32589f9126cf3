#!/usr/bin/env node
// The one place that knows how the addon is built: which sources, which libtorch, which flags.
// binding.gyp (node-gyp, prebuildify, node-gyp-build's source fallback) and CMakeLists.txt (cmake-js,
// the C++ tests) both ask this script, so the two build paths cannot drift apart.
//
// libtorch search order (the first that answers wins):
//   1. LIBTORCH=<dir>            an official libtorch folder (include/, lib/, share/cmake/Torch)
//   2. LIBTORCH_USE_PYTORCH=1    the libtorch inside an installed PyTorch (torch.utils.cmake_prefix_path);
//                                the interpreter is $PYTHON, else python3
//   3. the system                Debian's libtorch-dev (or any TorchConfig.cmake on the default prefixes)
// TFT_NATIVE_PORTABLE=1 drops the rpath to the libtorch folder, so nothing that ships names a path of the
// build machine (prebuilds are made this way; the loader tells users how to point at their libtorch).
// TFT_NATIVE_CUDA=0 builds without the CUDA kernels even where nvcc exists.
'use strict';

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');

class ConfigError extends Error {}

function readSources() {
  const text = fs.readFileSync(path.join(ROOT, 'native', 'sources.txt'), 'utf8');
  const groups = { core: [], binding: [], cuda: [], tests: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const m = /^(core|binding|cuda|tests):\s*(\S+)$/.exec(line);
    if (!m) throw new ConfigError(`native/sources.txt: cannot parse line "${raw}"`);
    groups[m[1]].push(m[2]);
  }
  return groups;
}

function exists(p) {
  try {
    fs.accessSync(p);
    return true;
  } catch {
    return false;
  }
}

function multiarch() {
  try {
    return execFileSync('gcc', ['-print-multiarch'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  }
}

function torchVersion(includeDirs) {
  for (const dir of includeDirs) {
    const file = path.join(dir, 'torch', 'version.h');
    if (!exists(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    const major = /TORCH_VERSION_MAJOR\s+(\d+)/.exec(text);
    const minor = /TORCH_VERSION_MINOR\s+(\d+)/.exec(text);
    const patch = /TORCH_VERSION_PATCH\s+(\d+)/.exec(text);
    if (major && minor && patch) return `${major[1]}.${minor[1]}.${patch[1]}`;
  }
  return null;
}

// The C++ ABI must be the one libtorch was built with, or linking fails with undefined std::__cxx11 symbols.
function abiFromTorchConfig(cmakeDir) {
  const file = path.join(cmakeDir, 'TorchConfig.cmake');
  if (!exists(file)) return null;
  const m = /_GLIBCXX_USE_CXX11_ABI=([01])/.exec(fs.readFileSync(file, 'utf8'));
  return m ? Number(m[1]) : null;
}

function describeLayout(root, includeBase, libDir, cmakeDir, source) {
  const includeDirs = [includeBase, path.join(includeBase, 'torch', 'csrc', 'api', 'include')];
  if (!exists(path.join(includeDirs[1], 'torch', 'torch.h'))) return null;
  if (!exists(path.join(libDir, 'libtorch.so')) && !exists(path.join(libDir, 'libtorch_cpu.so'))) return null;
  const version = torchVersion(includeDirs);
  const abi = abiFromTorchConfig(cmakeDir) ?? 1;
  const cuda = exists(path.join(libDir, 'libtorch_cuda.so'));
  return { source, root, includeDirs, libDir, cmakeDir, version, abi, cuda };
}

function fromLibtorchEnv(dir) {
  const root = path.resolve(dir);
  const found = describeLayout(
    root,
    path.join(root, 'include'),
    path.join(root, 'lib'),
    path.join(root, 'share', 'cmake', 'Torch'),
    'LIBTORCH',
  );
  if (!found) {
    throw new ConfigError(
      `LIBTORCH=${dir} is set but is not a libtorch folder (expected include/torch/csrc/api/include/torch/torch.h and lib/libtorch.so).`,
    );
  }
  return found;
}

function fromPyTorch() {
  const python = process.env.PYTHON || 'python3';
  let out;
  try {
    out = execFileSync(python, ['-c', 'import torch, os; print(os.path.dirname(torch.__file__))'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch (e) {
    throw new ConfigError(
      `LIBTORCH_USE_PYTORCH=1 is set but "${python} -c 'import torch'" failed: ${String(e.stderr || e.message)
        .trim()
        .split('\n')
        .pop()}`,
    );
  }
  const root = out.split('\n').pop();
  const found = describeLayout(
    root,
    path.join(root, 'include'),
    path.join(root, 'lib'),
    path.join(root, 'share', 'cmake', 'Torch'),
    'LIBTORCH_USE_PYTORCH',
  );
  if (!found) throw new ConfigError(`LIBTORCH_USE_PYTORCH=1: the PyTorch at ${root} has no C++ headers or libraries.`);
  return found;
}

function fromSystem() {
  const arch = multiarch();
  // TFT_NATIVE_SYSTEM_PREFIXES replaces the default system prefixes (colon-separated), for unusual layouts.
  const prefixes =
    process.env.TFT_NATIVE_SYSTEM_PREFIXES !== undefined
      ? process.env.TFT_NATIVE_SYSTEM_PREFIXES.split(':').filter(Boolean)
      : ['/usr', '/usr/local'];
  for (const p of (process.env.CMAKE_PREFIX_PATH || '').split(':').filter(Boolean)) prefixes.unshift(p);
  for (const prefix of prefixes) {
    const cmakeDirs = [
      path.join(prefix, 'lib', arch, 'cmake', 'Torch'),
      path.join(prefix, 'lib', 'cmake', 'Torch'),
      path.join(prefix, 'share', 'cmake', 'Torch'),
    ];
    const libDirs = [path.join(prefix, 'lib', arch), path.join(prefix, 'lib'), path.join(prefix, 'lib64')];
    for (const cmakeDir of cmakeDirs) {
      if (!exists(path.join(cmakeDir, 'TorchConfig.cmake'))) continue;
      for (const libDir of libDirs) {
        const found = describeLayout(prefix, path.join(prefix, 'include'), libDir, cmakeDir, 'system');
        if (found) return found;
      }
    }
  }
  return null;
}

const HOW_TO_FIX = [
  'libtorch was not found. Any one of these fixes it:',
  '  1. Debian/Ubuntu: sudo apt-get install -y libtorch-dev libopenblas0-pthread',
  '  2. an official libtorch download (https://pytorch.org, "LibTorch", cxx11 ABI): export LIBTORCH=/path/to/libtorch',
  '  3. an installed PyTorch (pip install torch): export LIBTORCH_USE_PYTORCH=1 (and PYTHON=/path/to/python if not python3)',
  '  4. a libtorch under another prefix: export CMAKE_PREFIX_PATH=/that/prefix',
].join('\n');

function findLibtorch() {
  if (process.env.LIBTORCH) return fromLibtorchEnv(process.env.LIBTORCH);
  if (process.env.LIBTORCH_USE_PYTORCH === '1') return fromPyTorch();
  const sys = fromSystem();
  if (sys) return sys;
  throw new ConfigError(HOW_TO_FIX);
}

// Google Highway (portable SIMD with per-CPU dispatch, used header-only: nothing links against libhwy).
// HWY_INCLUDE_DIR points at another copy's include/ folder; otherwise the default system prefixes.
function findHighway() {
  const dirs = [];
  if (process.env.HWY_INCLUDE_DIR) dirs.push(path.resolve(process.env.HWY_INCLUDE_DIR));
  for (const p of (process.env.CMAKE_PREFIX_PATH || '').split(':').filter(Boolean)) dirs.push(path.join(p, 'include'));
  dirs.push('/usr/include', '/usr/local/include');
  const dir = dirs.find((d) => exists(path.join(d, 'hwy', 'highway.h')) && exists(path.join(d, 'hwy', 'contrib')));
  if (!dir) {
    throw new ConfigError(
      [
        'Google Highway (the portable SIMD headers the kernels are written in) was not found. Either fixes it:',
        '  1. Debian/Ubuntu: sudo apt-get install -y libhwy-dev',
        '  2. a Highway checkout or install elsewhere: export HWY_INCLUDE_DIR=/path/to/its/include',
      ].join('\n'),
    );
  }
  return { includeDir: dir, system: dir === '/usr/include' || dir === '/usr/local/include' };
}

function findNvcc() {
  if (process.env.TFT_NATIVE_CUDA === '0') return null;
  const candidates = [];
  if (process.env.CUDA_HOME) candidates.push(path.join(process.env.CUDA_HOME, 'bin', 'nvcc'));
  for (const dir of (process.env.PATH || '').split(':').filter(Boolean)) candidates.push(path.join(dir, 'nvcc'));
  candidates.push('/usr/local/cuda/bin/nvcc');
  for (const c of candidates) {
    if (!exists(c)) continue;
    const real = fs.realpathSync(c);
    const home = path.resolve(path.dirname(real), '..');
    const staticRt = [path.join(home, 'lib64', 'libcudart_static.a'), path.join(home, 'lib', 'libcudart_static.a')].find(exists);
    if (!staticRt) continue;
    return { nvcc: real, home, includeDir: path.join(home, 'include'), cudartStatic: staticRt };
  }
  return null;
}

// Hopper and Ampere as real code plus PTX for newer devices; nvcc 13 no longer targets pre-Turing parts.
const CUDA_ARCH_FLAGS = [
  '-gencode=arch=compute_80,code=sm_80',
  '-gencode=arch=compute_90,code=sm_90',
  '-gencode=arch=compute_90,code=compute_90',
];

function config() {
  const sources = readSources();
  const torch = findLibtorch();
  const cuda = findNvcc();
  const portable = process.env.TFT_NATIVE_PORTABLE === '1';
  const systemLib = /^\/usr\/lib(64)?(\/|$)/.test(torch.libDir);
  const defines = [`_GLIBCXX_USE_CXX11_ABI=${torch.abi}`];
  if (cuda) defines.push('TFT_WITH_CUDA=1');
  if (torch.cuda) defines.push('TFT_TORCH_CUDA=1');
  // ATen's parallel_for is a header template that expands to `#pragma omp parallel` only under _OPENMP:
  // without -fopenmp every at::parallel_for in our own code silently runs on one thread.
  const cxxflags = ['-fopenmp'];
  const highway = findHighway();
  if (!highway.system) cxxflags.push(`-isystem${highway.includeDir}`);
  const torchLibs = ['torch', 'torch_cpu', 'c10'];
  const ldflags = [`-L${torch.libDir}`];
  if (!portable && !systemLib) ldflags.push(`-Wl,-rpath,${torch.libDir}`);
  // libtorch_cuda registers the CUDA backend from static initialisers; without --no-as-needed the linker drops
  // it as unused and libtorch reports "CUDA unavailable".
  if (torch.cuda) ldflags.push('-Wl,--no-as-needed', '-ltorch_cuda', '-lc10_cuda', '-Wl,--as-needed');
  for (const l of torchLibs) ldflags.push(`-l${l}`);
  if (cuda) ldflags.push(cuda.cudartStatic, '-ldl', '-lrt', '-lpthread');
  ldflags.push('-fopenmp');
  return {
    root: ROOT,
    sources,
    torch,
    cuda,
    defines,
    cxxflags,
    ldflags,
    nvccFlags: cuda
      ? [
          ...CUDA_ARCH_FLAGS,
          '-O3',
          '-std=c++17',
          '-Xcompiler',
          '-fPIC,-fvisibility=hidden',
          `-D_GLIBCXX_USE_CXX11_ABI=${torch.abi}`,
          `-I${path.join(ROOT, 'native')}`,
        ]
      : [],
  };
}

function cmakeQuote(s) {
  return `"${String(s).replace(/\\/g, '/').replace(/"/g, '\\"')}"`;
}

function emitCmake(c) {
  const list = (xs) => xs.map(cmakeQuote).join(' ');
  return [
    '# generated by scripts/native-config.cjs; do not edit',
    `set(TFT_TORCH_SOURCE ${cmakeQuote(c.torch.source)})`,
    `set(TFT_TORCH_VERSION ${cmakeQuote(c.torch.version)})`,
    `set(TFT_TORCH_INCLUDE_DIRS ${list(c.torch.includeDirs)})`,
    `set(TFT_TORCH_LIB_DIR ${cmakeQuote(c.torch.libDir)})`,
    `set(TFT_TORCH_CMAKE_DIR ${cmakeQuote(c.torch.cmakeDir)})`,
    `set(TFT_TORCH_CXX11_ABI ${c.torch.abi})`,
    `set(TFT_TORCH_HAS_CUDA ${c.torch.cuda ? 'ON' : 'OFF'})`,
    `set(TFT_NVCC ${cmakeQuote(c.cuda ? c.cuda.nvcc : '')})`,
    `set(TFT_CUDA_HOME ${cmakeQuote(c.cuda ? c.cuda.home : '')})`,
    `set(TFT_SOURCES_CORE ${list(c.sources.core)})`,
    `set(TFT_SOURCES_BINDING ${list(c.sources.binding)})`,
    `set(TFT_SOURCES_CUDA ${list(c.sources.cuda)})`,
    `set(TFT_SOURCES_TESTS ${list(c.sources.tests)})`,
    `set(TFT_DEFINES ${list(c.defines)})`,
    `set(TFT_CXXFLAGS ${list(c.cxxflags)})`,
    `set(TFT_LDFLAGS ${list(c.ldflags)})`,
    `set(TFT_NVCC_FLAGS ${list(c.nvccFlags)})`,
    '',
  ].join('\n');
}

function main(argv) {
  const what = argv[0] || 'json';
  let c;
  try {
    c = config();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`\ntft-native: ${e.message}\n\n`);
      process.exit(1);
    }
    throw e;
  }
  const print = (xs) => process.stdout.write(xs.join('\n') + (xs.length ? '\n' : ''));
  switch (what) {
    case 'json':
      process.stdout.write(JSON.stringify(c, null, 2) + '\n');
      break;
    case 'cmake':
      process.stdout.write(emitCmake(c));
      break;
    case 'sources': // gyp: everything that node-gyp compiles with the host compiler
      print([...c.sources.core, ...c.sources.binding]);
      break;
    case 'cuda-sources':
      print(c.cuda ? c.sources.cuda : []);
      break;
    case 'include-dirs':
      print(c.cuda ? [...c.torch.includeDirs, c.cuda.includeDir] : c.torch.includeDirs);
      break;
    case 'defines':
      print(c.defines);
      break;
    case 'cxxflags':
      print(c.cxxflags);
      break;
    case 'ldflags':
      print(c.ldflags);
      break;
    case 'nvcc':
      print(c.cuda ? [c.cuda.nvcc] : ['nvcc-not-found']);
      break;
    case 'nvcc-flags':
      print(c.nvccFlags);
      break;
    default:
      process.stderr.write(`native-config: unknown query "${what}"\n`);
      process.exit(2);
  }
}

if (require.main === module) main(process.argv.slice(2));

module.exports = { config, findLibtorch, findNvcc, HOW_TO_FIX, ConfigError };
