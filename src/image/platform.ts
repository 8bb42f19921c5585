/** A container image platform as Docker and the OCI spec name it. */
export interface ImagePlatform {
  os: 'linux';
  architecture: 'amd64' | 'arm64' | 'arm';
  /** arm64 images carry v8; 32-bit Pis need v7 (Pi 2/3/4 on a 32-bit OS) or v6 (Pi Zero, Pi 1). */
  variant?: 'v6' | 'v7' | 'v8';
}

/**
 * The platform of images that run natively on this Node process's CPU. `armVersion` is
 * process.config.variables.arm_version on 32-bit ARM ("6" or "7").
 */
export function platformOfNodeArch(nodeArch: string, armVersion?: string): ImagePlatform {
  switch (nodeArch) {
    case 'x64':
      return { os: 'linux', architecture: 'amd64' };
    case 'arm64':
      return { os: 'linux', architecture: 'arm64', variant: 'v8' };
    case 'arm':
      return { os: 'linux', architecture: 'arm', variant: armVersion === '6' ? 'v6' : 'v7' };
    default:
      throw new Error(`unsupported CPU architecture "${nodeArch}": Bramble runs on x64, arm64 and 32-bit arm`);
  }
}

export function formatPlatform(platform: ImagePlatform): string {
  return `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`;
}
