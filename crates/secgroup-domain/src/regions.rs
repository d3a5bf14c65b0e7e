//! The regions a server offers, with their names in the languages `DescribeRegions` speaks.

/// One region and its local names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub name_ja: String,
}

/// Languages of `AcceptLanguage`. The newer ones without names of their own fall back to English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Chinese,
    English,
    Japanese,
}

impl Language {
    /// `zh-CN` (the default), `en-US`, `ja`; also the newer `zh-TW`, `fr`, `de`, `ko`.
    pub fn parse(s: &str) -> Option<Language> {
        match s {
            "zh-CN" | "zh-TW" => Some(Language::Chinese),
            "en-US" | "fr" | "de" | "ko" => Some(Language::English),
            "ja" => Some(Language::Japanese),
            _ => None,
        }
    }
}

impl Region {
    pub fn local_name(&self, lang: Language) -> &str {
        match lang {
            Language::Chinese => &self.name_zh,
            Language::English => &self.name_en,
            Language::Japanese => &self.name_ja,
        }
    }
}

/// Alibaba Cloud's public regions: id, Chinese, English, Japanese name.
const PUBLIC_REGIONS: &[(&str, &str, &str, &str)] = &[
    (
        "cn-qingdao",
        "华北1（青岛）",
        "China (Qingdao)",
        "中国 (青島)",
    ),
    (
        "cn-beijing",
        "华北2（北京）",
        "China (Beijing)",
        "中国 (北京)",
    ),
    (
        "cn-zhangjiakou",
        "华北3（张家口）",
        "China (Zhangjiakou)",
        "中国 (張家口)",
    ),
    (
        "cn-huhehaote",
        "华北5（呼和浩特）",
        "China (Hohhot)",
        "中国 (フフホト)",
    ),
    (
        "cn-wulanchabu",
        "华北6（乌兰察布）",
        "China (Ulanqab)",
        "中国 (ウランチャブ)",
    ),
    (
        "cn-hangzhou",
        "华东1（杭州）",
        "China (Hangzhou)",
        "中国 (杭州)",
    ),
    (
        "cn-shanghai",
        "华东2（上海）",
        "China (Shanghai)",
        "中国 (上海)",
    ),
    (
        "cn-nanjing",
        "华东5（南京-本地地域）",
        "China (Nanjing - Local Region)",
        "中国 (南京 - ローカルリージョン)",
    ),
    (
        "cn-fuzhou",
        "华东6（福州-本地地域）",
        "China (Fuzhou - Local Region)",
        "中国 (福州 - ローカルリージョン)",
    ),
    (
        "cn-shenzhen",
        "华南1（深圳）",
        "China (Shenzhen)",
        "中国 (深セン)",
    ),
    (
        "cn-heyuan",
        "华南2（河源）",
        "China (Heyuan)",
        "中国 (河源)",
    ),
    (
        "cn-guangzhou",
        "华南3（广州）",
        "China (Guangzhou)",
        "中国 (広州)",
    ),
    (
        "cn-chengdu",
        "西南1（成都）",
        "China (Chengdu)",
        "中国 (成都)",
    ),
    (
        "cn-hongkong",
        "中国香港",
        "China (Hong Kong)",
        "中国 (香港)",
    ),
    (
        "ap-northeast-1",
        "日本（东京）",
        "Japan (Tokyo)",
        "日本 (東京)",
    ),
    (
        "ap-northeast-2",
        "韩国（首尔）",
        "South Korea (Seoul)",
        "韓国 (ソウル)",
    ),
    ("ap-southeast-1", "新加坡", "Singapore", "シンガポール"),
    (
        "ap-southeast-3",
        "马来西亚（吉隆坡）",
        "Malaysia (Kuala Lumpur)",
        "マレーシア (クアラルンプール)",
    ),
    (
        "ap-southeast-5",
        "印度尼西亚（雅加达）",
        "Indonesia (Jakarta)",
        "インドネシア (ジャカルタ)",
    ),
    (
        "ap-southeast-6",
        "菲律宾（马尼拉）",
        "Philippines (Manila)",
        "フィリピン (マニラ)",
    ),
    (
        "ap-southeast-7",
        "泰国（曼谷）",
        "Thailand (Bangkok)",
        "タイ (バンコク)",
    ),
    (
        "us-east-1",
        "美国（弗吉尼亚）",
        "US (Virginia)",
        "米国 (バージニア)",
    ),
    (
        "us-west-1",
        "美国（硅谷）",
        "US (Silicon Valley)",
        "米国 (シリコンバレー)",
    ),
    (
        "eu-west-1",
        "英国（伦敦）",
        "UK (London)",
        "英国 (ロンドン)",
    ),
    (
        "eu-central-1",
        "德国（法兰克福）",
        "Germany (Frankfurt)",
        "ドイツ (フランクフルト)",
    ),
    ("me-east-1", "阿联酋（迪拜）", "UAE (Dubai)", "UAE (ドバイ)"),
    (
        "me-central-1",
        "沙特（利雅得）",
        "Saudi Arabia (Riyadh)",
        "サウジアラビア (リヤド)",
    ),
];

/// The regions this server offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionCatalog {
    regions: Vec<Region>,
}

impl RegionCatalog {
    /// Every public region.
    pub fn public() -> Self {
        RegionCatalog {
            regions: PUBLIC_REGIONS
                .iter()
                .map(|(id, zh, en, ja)| Region {
                    id: (*id).into(),
                    name_zh: (*zh).into(),
                    name_en: (*en).into(),
                    name_ja: (*ja).into(),
                })
                .collect(),
        }
    }

    /// The listed region ids, in that order. Public regions keep their names; any other id
    /// (a private deployment's own region) is named by its id.
    pub fn from_ids<'a>(ids: impl IntoIterator<Item = &'a str>) -> Self {
        let public = Self::public();
        let regions = ids
            .into_iter()
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(|id| {
                public.get(id).cloned().unwrap_or_else(|| Region {
                    id: id.into(),
                    name_zh: id.into(),
                    name_en: id.into(),
                    name_ja: id.into(),
                })
            })
            .collect();
        RegionCatalog { regions }
    }

    pub fn get(&self, id: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.id == id)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    pub fn all(&self) -> &[Region] {
        &self.regions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_list_keeps_public_names_and_order() {
        let c = RegionCatalog::from_ids("cn-shanghai, my-dc-1".split(','));
        assert_eq!(c.all().len(), 2);
        assert_eq!(c.all()[0].local_name(Language::English), "China (Shanghai)");
        assert_eq!(c.all()[1].local_name(Language::Japanese), "my-dc-1");
        assert!(!c.contains("cn-hangzhou"));
    }

    #[test]
    fn languages() {
        assert_eq!(Language::parse("ja"), Some(Language::Japanese));
        assert_eq!(Language::parse("xx"), None);
        assert_eq!(
            RegionCatalog::public()
                .get("cn-hangzhou")
                .map(|r| r.local_name(Language::Chinese)),
            Some("华东1（杭州）")
        );
    }
}
