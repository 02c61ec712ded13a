// A realistic unit directory (单位目录) for tests and benchmarks: one city (江州市) with its
// departments, counties and districts with theirs, and towns and subdistricts under each county.
// Deterministic, and free of dependencies beyond the Unit type, so that e2e and load tests can
// reuse it.
import type { Unit } from '../src/store/types.js';

export interface SampleDirectoryOptions {
  counties?: number;
  townsPerCounty?: number;
  /** Departments under the city and under each county. */
  departmentsPerLevel?: number;
}

export const SAMPLE_CITY = { id: 'city', name: '江州市' } as const;

const COUNTY_NAMES = [
  '甲县', '乙县', '丙县', '丁县', '戊县', '己县', '庚县', '辛县', '壬县', '癸县', '东湖区', '西山区',
  '南岭区', '北塘区', '青溪县', '云台县', '白沙县', '龙门县', '凤凰县', '石门县',
];

const TOWN_NAMES = [
  '城关镇', '东山镇', '西河镇', '南湖街道', '北岭镇', '清水乡', '白石镇', '红旗街道', '青山镇', '石桥镇',
  '新华街道', '长安镇', '龙泉镇', '桃源乡', '柳林镇', '马坊镇', '黄土镇', '杨柳乡', '大营镇', '小河镇',
  '高桥镇', '金山镇', '银湖街道', '和平街道', '胜利街道', '解放街道', '建设街道', '永安镇', '太平乡', '五里镇',
  '七里河镇', '三岔镇', '双河镇', '四方乡', '六合镇', '八里铺镇', '九龙镇', '十里铺镇', '百花镇', '千佛乡',
];

/** Departments, without the 市/县 prefix: 市教育局, 甲县教育局. */
const DEPARTMENT_NAMES = [
  '委办公室', '人民政府办公室', '发展和改革委员会', '教育局', '科学技术局', '工业和信息化局', '公安局',
  '民政局', '司法局', '财政局', '人力资源和社会保障局', '自然资源和规划局', '生态环境局', '住房和城乡建设局',
  '交通运输局', '水利局', '农业农村局', '商务局', '文化广电和旅游局', '卫生健康委员会', '退役军人事务局',
  '应急管理局', '审计局', '市场监督管理局', '统计局', '医疗保障局', '信访局', '数据资源管理局', '林业局', '气象局',
];

const pad = (n: number): string => String(n).padStart(2, '0');
const REPEAT_PREFIXES = ['', '新', '上', '下', '前', '后'];
/** Past the end of a name list, names come round again with a prefix: 城关镇, then 新城关镇, 上城关镇… */
const nameAt = (names: readonly string[], index: number): string => {
  const round = Math.floor(index / names.length);
  const prefix = REPEAT_PREFIXES[round] ?? `第${round + 1}`;
  return `${prefix}${names[index % names.length]!}`;
};

function departments(parent: Unit, prefix: string, count: number): Unit[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${parent.id}.d${pad(index + 1)}`,
    name: `${prefix}${nameAt(DEPARTMENT_NAMES, index)}`,
    level: 'department' as const,
    parentId: parent.id,
    sortOrder: index + 1,
    sipUri: null,
  }));
}

/**
 * The directory, parents before children. With the defaults (12 counties, 30 towns each, 20
 * departments per level) it has 1 + 20 + 12 × (1 + 20 + 30) = 633 units.
 */
export function sampleDirectory({ counties = 12, townsPerCounty = 30, departmentsPerLevel = 20 }: SampleDirectoryOptions = {}): Unit[] {
  const city: Unit = { ...SAMPLE_CITY, level: 'city', parentId: null, sortOrder: 0, sipUri: 'sip:city@conf.jiangzhou.gov.cn' };
  const units: Unit[] = [city, ...departments(city, '市', departmentsPerLevel)];
  for (let c = 0; c < counties; c++) {
    const countyName = nameAt(COUNTY_NAMES, c);
    const county: Unit = {
      id: `c${pad(c + 1)}`,
      name: countyName,
      level: 'county',
      parentId: city.id,
      // After the city's departments, which sort 1…departmentsPerLevel.
      sortOrder: 100 + c,
      sipUri: `sip:c${pad(c + 1)}@conf.jiangzhou.gov.cn`,
    };
    units.push(county, ...departments(county, countyName, departmentsPerLevel));
    for (let t = 0; t < townsPerCounty; t++) {
      const townName = nameAt(TOWN_NAMES, t);
      units.push({
        id: `${county.id}.t${pad(t + 1)}`,
        name: `${countyName}${townName}${townName.endsWith('街道') ? '办事处' : '人民政府'}`,
        level: 'town',
        parentId: county.id,
        sortOrder: 100 + t,
        sipUri: `sip:${county.id}-t${pad(t + 1)}@conf.jiangzhou.gov.cn`,
      });
    }
  }
  return units;
}

const CHINESE_LEVELS = { city: '市', county: '县', town: '镇', department: '部门' } as const;

/**
 * The directory as an office would export it from Excel: UTF-8 with BOM, CRLF, Chinese level
 * names, columns in their own order plus a remarks column that import ignores, and the odd quoted
 * field. Written here rather than with unitsToCsv, so that it tests the parser independently.
 */
export function sampleDirectoryCsv(options: SampleDirectoryOptions = {}): string {
  const rows = sampleDirectory(options).map((unit, index) => {
    const remark = index % 50 === 0 ? '"备注, 含逗号和""引号"""' : '';
    const level = unit.level === 'county' && unit.name.endsWith('区') ? '区' : CHINESE_LEVELS[unit.level];
    return [unit.id, `"${unit.name}"`, level, unit.parentId ?? '', unit.sortOrder, remark, unit.sipUri ?? ''].join(',');
  });
  return `\uFEFF${['id,name,level,parent_id,sort_order,备注,sip_uri', ...rows].join('\r\n')}\r\n`;
}
