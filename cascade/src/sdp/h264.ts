/** H.264 profiles told apart by profile_idc and the constraint flags (RFC 6184 profile-level-id). */
export type H264Profile = 'constrained-baseline' | 'baseline' | 'main' | 'extended' | 'high' | 'constrained-high';

export interface ProfileLevelId {
  profile: H264Profile;
  profileIdc: number;
  /** constraint_set0..5 flags and the two reserved bits (profile-iop). */
  profileIop: number;
  levelIdc: number;
}

const CONSTRAINT_SET0 = 0x80;
const CONSTRAINT_SET1 = 0x40;
const CONSTRAINT_SET3 = 0x10;
const CONSTRAINT_SET4 = 0x08;
const CONSTRAINT_SET5 = 0x04;

function profileOf(profileIdc: number, iop: number): H264Profile | undefined {
  switch (profileIdc) {
    case 0x42:
      return iop & CONSTRAINT_SET1 ? 'constrained-baseline' : 'baseline';
    case 0x4d:
      // Main with constraint_set0 also obeys Baseline: the intersection is Constrained Baseline.
      return iop & CONSTRAINT_SET0 ? 'constrained-baseline' : 'main';
    case 0x58:
      if (!(iop & CONSTRAINT_SET0)) return 'extended';
      return iop & CONSTRAINT_SET1 ? 'constrained-baseline' : 'baseline';
    case 0x64:
      return iop & CONSTRAINT_SET4 && iop & CONSTRAINT_SET5 ? 'constrained-high' : 'high';
    default:
      return undefined;
  }
}

/** Reads a profile-level-id; RFC 6184's default when absent is Baseline level 1 (42000a). */
export function parseProfileLevelId(text: string | undefined): ProfileLevelId | undefined {
  const value = text ?? '42000a';
  if (!/^[0-9a-fA-F]{6}$/.test(value)) return undefined;
  const profileIdc = parseInt(value.slice(0, 2), 16);
  const profileIop = parseInt(value.slice(2, 4), 16);
  const profile = profileOf(profileIdc, profileIop);
  return profile && { profile, profileIdc, profileIop, levelIdc: parseInt(value.slice(4, 6), 16) };
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

/** Level 1b is level_idc 11 with constraint_set3 (Baseline, Main, Extended) or level_idc 9. */
function levelRank({ profileIdc, profileIop, levelIdc }: ProfileLevelId): number {
  const oneB = levelIdc === 9 || (levelIdc === 11 && profileIop & CONSTRAINT_SET3 && [0x42, 0x4d, 0x58].includes(profileIdc));
  return oneB ? 10.5 : levelIdc;
}

/**
 * Whether we can take an offered profile with one of ours. MCUs label the streams of their
 * FMO/ASO-free encoders Baseline (42801f): those decode as Constrained Baseline, so Baseline
 * is taken where we have Constrained Baseline. Levels may differ.
 */
export function sameH264Profile(offered: ProfileLevelId, local: ProfileLevelId): boolean {
  return offered.profile === local.profile || (offered.profile === 'baseline' && local.profile === 'constrained-baseline');
}

/**
 * The profile-level-id of an answer: the offer's profile (its exact profile_idc and flags) at the
 * level we receive, or the offer's level when lower and either side does not allow level asymmetry.
 */
export function answerProfileLevelId(offered: ProfileLevelId, local: ProfileLevelId, levelAsymmetryAllowed: boolean): string {
  const level = !levelAsymmetryAllowed && levelRank(offered) < levelRank(local) ? offered.levelIdc : local.levelIdc;
  return hex(offered.profileIdc) + hex(offered.profileIop) + hex(level);
}
