/** H.264 profiles by profile_idc (and constraint_set1 for Constrained Baseline). */
export type H264Profile =
  | 'Constrained Baseline'
  | 'Baseline'
  | 'Main'
  | 'Extended'
  | 'High'
  | 'High 10'
  | 'High 4:2:2'
  | 'High 4:4:4 Predictive'
  | 'CAVLC 4:4:4 Intra'
  | `profile_idc ${number}`;

/** What an AVCDecoderConfigurationRecord says of the stream. */
export interface AvcConfig {
  profile: H264Profile;
  /** profile_idc, constraint flags and level_idc as 6 hex digits, as in SDP (e.g. '640028'). */
  profileLevelId: string;
  /** The displayed size from the first SPS (after cropping); undefined if the SPS could not be read. */
  width?: number;
  height?: number;
}

const PROFILE_NAMES: Record<number, H264Profile> = {
  66: 'Baseline',
  77: 'Main',
  88: 'Extended',
  100: 'High',
  110: 'High 10',
  122: 'High 4:2:2',
  244: 'High 4:4:4 Predictive',
  44: 'CAVLC 4:4:4 Intra',
};
const CONSTRAINT_SET1 = 0x40;
/** Profiles whose SPS carries chroma format and bit depths (H.264 7.3.2.1.1). */
const PROFILES_WITH_CHROMA_FIELDS = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Reads an AVCDecoderConfigurationRecord (ISO 14496-15 5.2.4.1). Throws RangeError when it is cut short. */
export function parseAvcConfig(record: Buffer): AvcConfig {
  if (record.length < 7) throw new RangeError(`an AVCDecoderConfigurationRecord of ${record.length} bytes is too short`);
  const [profileIdc, constraints, levelIdc] = [record[1]!, record[2]!, record[3]!];
  const profile = profileIdc === 66 && constraints & CONSTRAINT_SET1 ? 'Constrained Baseline' : (PROFILE_NAMES[profileIdc] ?? `profile_idc ${profileIdc}`);
  const profileLevelId = [profileIdc, constraints, levelIdc].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  const spsCount = record[5]! & 0x1f;
  const spsLength = record.readUInt16BE(6);
  if (spsCount === 0 || record.length < 8 + spsLength) return { profile, profileLevelId };
  try {
    return { profile, profileLevelId, ...spsSize(record.subarray(8, 8 + spsLength)) };
  } catch {
    return { profile, profileLevelId };
  }
}

/** The displayed width and height an SPS NAL unit declares (H.264 7.3.2.1.1, cropping from 7.4.2.1.1). */
export function spsSize(sps: Buffer): { width: number; height: number } {
  const bits = new BitReader(withoutEmulationPrevention(sps.subarray(1)));
  const profileIdc = bits.u(8);
  bits.u(16); // constraint flags, level_idc
  bits.ue(); // seq_parameter_set_id
  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  if (PROFILES_WITH_CHROMA_FIELDS.has(profileIdc)) {
    chromaFormatIdc = bits.ue();
    if (chromaFormatIdc === 3) separateColourPlane = bits.u(1) === 1;
    bits.ue(); // bit_depth_luma_minus8
    bits.ue(); // bit_depth_chroma_minus8
    bits.u(1); // qpprime_y_zero_transform_bypass_flag
    if (bits.u(1)) skipScalingMatrix(bits, chromaFormatIdc === 3 ? 12 : 8);
  }
  bits.ue(); // log2_max_frame_num_minus4
  const picOrderCntType = bits.ue();
  if (picOrderCntType === 0) {
    bits.ue(); // log2_max_pic_order_cnt_lsb_minus4
  } else if (picOrderCntType === 1) {
    bits.u(1); // delta_pic_order_always_zero_flag
    bits.se(); // offset_for_non_ref_pic
    bits.se(); // offset_for_top_to_bottom_field
    const cycle = bits.ue();
    for (let i = 0; i < cycle; i++) bits.se();
  }
  bits.ue(); // max_num_ref_frames
  bits.u(1); // gaps_in_frame_num_value_allowed_flag
  const widthInMbs = bits.ue() + 1;
  const heightInMapUnits = bits.ue() + 1;
  const frameMbsOnly = bits.u(1);
  if (!frameMbsOnly) bits.u(1); // mb_adaptive_frame_field_flag
  bits.u(1); // direct_8x8_inference_flag
  let [left, right, top, bottom] = [0, 0, 0, 0];
  if (bits.u(1)) [left, right, top, bottom] = [bits.ue(), bits.ue(), bits.ue(), bits.ue()];
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const [subWidthC, subHeightC] = chromaArrayType === 1 ? [2, 2] : chromaArrayType === 2 ? [2, 1] : [1, 1];
  const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC;
  const cropUnitY = (chromaArrayType === 0 ? 1 : subHeightC) * (2 - frameMbsOnly);
  return {
    width: widthInMbs * 16 - cropUnitX * (left + right),
    height: (2 - frameMbsOnly) * heightInMapUnits * 16 - cropUnitY * (top + bottom),
  };
}

function skipScalingMatrix(bits: BitReader, lists: number): void {
  for (let i = 0; i < lists; i++) {
    if (!bits.u(1)) continue;
    const size = i < 6 ? 16 : 64;
    let last = 8;
    let next = 8;
    for (let j = 0; j < size && next !== 0; j++) {
      next = (last + bits.se() + 256) % 256;
      if (next !== 0) last = next;
    }
  }
}

/** The RBSP of a NAL unit: every 00 00 03 becomes 00 00. */
function withoutEmulationPrevention(nal: Buffer): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (const byte of nal) {
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    out.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}

/** Bits of an RBSP, most significant first, with exp-Golomb codes. Throws RangeError past the end. */
class BitReader {
  private bit = 0;

  constructor(private readonly data: Buffer) {}

  u(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++) {
      const byte = this.data[this.bit >> 3];
      if (byte === undefined) throw new RangeError('the SPS ends early');
      value = value * 2 + ((byte >> (7 - (this.bit & 7))) & 1);
      this.bit++;
    }
    return value;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) {
      if (++zeros > 31) throw new RangeError('an exp-Golomb code in the SPS is longer than 32 bits');
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const code = this.ue();
    return code % 2 === 1 ? (code + 1) / 2 : -code / 2;
  }
}
