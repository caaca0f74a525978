"""Reference data for the demo world: people, places, products, carriers and channels.

Plain values only (no database access); `demo.seed` turns them into rows through the services.
Every city in CITIES is in fulfillment/data/places.csv (by its English name), so routing can
measure distances to it.
"""

from datetime import time
from decimal import Decimal

# ---- demo logins: username -> (role group, superuser, first name, last name) ----------------
# The password of each is its username. Demo only.
USERS = [
    ("admin", "admin", True, "Jun", "Zhao"),
    ("manager", "manager", False, "Min", "Chen"),
    ("cs", "customer_service", False, "Li", "Wang"),
    ("warehouse", "warehouse", False, "Qiang", "Liu"),
]

# ---- locations --------------------------------------------------------------------------------
LOCATIONS = [
    {
        "code": "SH-QP",
        "name": "Shanghai Qingpu DC 上海青浦仓",
        "kind": "warehouse",
        "province": "上海市",
        "city": "上海市",
        "address": "青浦区华新镇华腾路1288号 3号库",
        "postcode": "201708",
        "phone": "021-5988 1200",
        "latitude": 31.2517,
        "longitude": 121.2249,
        "cold_chain": True,
        "handles_bulky": False,
        "daily_capacity": 800,
        "cutoff_time": time(16, 0),
        "city_zh": "上海",
        "hub": "上海青浦转运中心",
    },
    {
        "code": "GZ-BY",
        "name": "Guangzhou Baiyun DC 广州白云仓",
        "kind": "warehouse",
        "province": "广东省",
        "city": "广州市",
        "address": "白云区太和镇大源北路33号 B栋",
        "postcode": "510540",
        "phone": "020-3622 8800",
        "latitude": 23.2908,
        "longitude": 113.3580,
        "cold_chain": False,
        "handles_bulky": True,
        "daily_capacity": 400,
        "cutoff_time": time(17, 0),
        "city_zh": "广州",
        "hub": "广州白云转运中心",
    },
    {
        "code": "BJ-SLT",
        "name": "Beijing Sanlitun store 北京三里屯门店",
        "kind": "store",
        "province": "北京市",
        "city": "北京市",
        "address": "朝阳区三里屯路19号 太古里南区 S8-12",
        "postcode": "100027",
        "phone": "010-6417 3300",
        "latitude": 39.9340,
        "longitude": 116.4540,
        "cold_chain": False,
        "handles_bulky": False,
        "daily_capacity": 120,
        "cutoff_time": time(20, 0),
        "city_zh": "北京",
        "hub": "北京朝阳营业部",
    },
]

# ---- products: sku, name, handling class, weight g, (l, w, h) mm, price ----------------------
# Bins: A standard, B fragile, C chilled, D bulky; "A-01-03" is aisle A, bay 01, level 03.
PRODUCTS = [
    ("COF-YN-1KG", "Yunnan coffee beans 云南咖啡豆 1kg", "standard", 1050, (250, 150, 90), "128.00"),
    ("TEA-LJ-250", "West Lake Longjing green tea 西湖龙井 250g", "standard", 320, (200, 120, 80), "298.00"),
    ("TEA-PE-357", "Pu'er tea cake 普洱茶饼 357g", "standard", 420, (210, 210, 30), "168.00"),
    ("SNK-NUT-750", "Daily mixed nuts 每日坚果 750g", "standard", 820, (300, 200, 100), "89.00"),
    ("NDL-LSF-5P", "Liuzhou river snail noodles 柳州螺蛳粉 5-pack", "standard", 1550, (320, 220, 110), "59.90"),
    ("RICE-WC-5KG", "Wuchang rice 五常大米 5kg", "standard", 5100, (400, 280, 90), "99.00"),
    ("CAKE-MOON-8", "Cantonese mooncake gift box 广式月饼礼盒 8 pcs", "standard", 1250, (330, 330, 80), "238.00"),
    ("TSH-CTN-M", "Cotton T-shirt 纯棉T恤 M", "standard", 220, (300, 250, 20), "79.00"),
    ("SCF-SILK-SZ", "Suzhou silk scarf 苏州真丝围巾", "standard", 120, (250, 180, 20), "268.00"),
    ("PWB-10K", "Power bank 充电宝 10000mAh", "standard", 230, (150, 80, 25), "129.00"),
    ("EAR-TWS-01", "Wireless earbuds 无线蓝牙耳机", "standard", 150, (110, 110, 50), "199.00"),
    ("CBL-USBC-1M", "USB-C cable 数据线 1m", "standard", 50, (120, 80, 20), "29.00"),
    ("UMB-FOLD", "Folding umbrella 折叠雨伞", "standard", 350, (280, 60, 60), "49.00"),
    ("BOOK-3BODY", "The Three-Body Problem trilogy 三体全集", "standard", 1400, (240, 170, 110), "168.00"),
    ("TOY-PANDA-30", "Panda plush toy 熊猫公仔 30cm", "standard", 300, (300, 200, 150), "69.00"),
    ("FR-CRAB-6", "Yangcheng Lake hairy crabs 阳澄湖大闸蟹 6 pcs", "fresh", 1900, (350, 250, 150), "498.00"),
    ("FR-STRAW-1KG", "Dandong strawberries 丹东草莓 1kg", "fresh", 1150, (300, 200, 100), "89.00"),
    ("FR-MILK-950", "Fresh milk 鲜牛奶 950ml", "fresh", 1000, (95, 95, 250), "19.80"),
    ("FR-LYCHEE-2KG", "Guangdong lychee 荔枝 2kg", "fresh", 2150, (350, 250, 120), "99.00"),
    ("FR-YOG-6", "Greek yogurt 希腊酸奶 6 cups", "fresh", 900, (200, 140, 90), "45.00"),
    ("FR-SALMON-500", "Chilled salmon fillet 冰鲜三文鱼 500g", "fresh", 620, (250, 150, 50), "139.00"),
    ("FG-TEASET-JDZ", "Jingdezhen porcelain tea set 景德镇陶瓷茶具", "fragile", 2200, (400, 300, 180), "399.00"),
    ("FG-GLASS-2", "Crystal wine glasses 水晶红酒杯 2 pcs", "fragile", 900, (300, 200, 250), "128.00"),
    ("FG-FENJIU-500", "Fenjiu baijiu 汾酒 500ml", "fragile", 1150, (100, 100, 300), "168.00"),
    ("FG-VASE-LQ", "Longquan celadon vase 龙泉青瓷花瓶", "fragile", 1500, (250, 250, 350), "260.00"),
    ("FG-CHILI-JAR", "Chili crisp 香辣脆油辣椒 280g glass jar", "fragile", 420, (80, 80, 120), "12.50"),
    ("BK-SOFA-3", "Three-seat fabric sofa 三人布艺沙发", "bulky", 45000, (2100, 900, 850), "3299.00"),
    ("BK-DESK-ELEC", "Electric standing desk 电动升降桌", "bulky", 32000, (1400, 700, 200), "1899.00"),
    ("BK-MATT-180", "Latex mattress 乳胶床垫 1.8m", "bulky", 25000, (1800, 500, 500), "2599.00"),
    ("BK-BIKE-CITY", "City bicycle 城市自行车", "bulky", 16000, (1700, 250, 900), "899.00"),
    ("SC-MOUTAI-500", "Kweichow Moutai 贵州茅台 53% 500ml (allocation)", "fragile", 1200, (110, 110, 320), "2899.00"),
]
# The scarce product: only these units exist, so orders for more go on hold "stock short".
SCARCE_SKU = "SC-MOUTAI-500"
SCARCE_STOCK = {"SH-QP": 1, "BJ-SLT": 1}


# ---- carriers and their services ------------------------------------------------------------
# (code, name, tracking URL template, carrier extras, services). A service: code, name, kind,
# transit days, base rate, per kg rate, max weight g, then optional capabilities; any key the
# models do not have (yet) is left out by demo/reference.py.
def _service(code, name, kind, days, base, per_kg, max_g, **extra):
    return {
        "code": code,
        "name": name,
        "kind": kind,
        "transit_days": days,
        "base_rate": base,
        "per_kg_rate": per_kg,
        "max_weight_g": max_g,
        "cold_chain": extra.pop("cold_chain", False),
        "freight": extra.pop("freight", False),
        **extra,
    }


CARRIERS = [
    (
        "sf",
        "SF Express 顺丰速运",
        "https://www.sf-express.com/chn/en/waybill/waybill-detail/{tracking_number}",
        {"pickup_cutoff": time(19, 0)},
        [
            _service("sf-express", "Next day 顺丰特快", "express", 1, "18.00", "6.00", 30000, signature=True,
                     insurance=True, max_length_mm=1500, remote_surcharge="10.00"),
            _service("sf-standard", "Standard 顺丰标快", "standard", 2, "13.00", "4.00", 30000, signature=True,
                     insurance=True, max_length_mm=1500, remote_surcharge="10.00"),
            _service("sf-cold", "Cold chain 顺丰冷运", "cold_chain", 1, "28.00", "10.00", 30000, cold_chain=True,
                     signature=True, insurance=True, max_length_mm=1000, remote_surcharge="20.00"),
        ],
    ),
    (
        "zto",
        "ZTO Express 中通快递",
        "https://www.zto.com/express/expressCheck.html?txtBill={tracking_number}",
        {"pickup_cutoff": time(18, 0)},
        [
            _service("zto-standard", "Standard 标准快递", "standard", 3, "8.00", "2.00", 30000, insurance=True,
                     max_length_mm=1200, remote_surcharge="15.00"),
            _service("zto-economy", "Economy 经济件", "economy", 5, "6.00", "1.50", 20000, max_length_mm=1000,
                     remote_surcharge="15.00"),
        ],
    ),
    (
        "deppon",
        "Deppon Freight 德邦快递",
        "https://www.deppon.com/track/ordertrack?orderNum={tracking_number}",
        {"pickup_cutoff": time(17, 30)},
        [
            _service("dp-heavy", "Heavy parcel 大件快递", "standard", 3, "10.00", "1.80", 60000, signature=True,
                     insurance=True, remote_surcharge="30.00"),
            _service("dp-freight", "Freight 精准卡航", "freight", 4, "60.00", "3.00", None, freight=True,
                     signature=True, insurance=True, remote_surcharge="80.00"),
        ],
    ),
]  # fmt: skip

# ---- channels: slug, name, kind, default priority, external id style ----------------------
CHANNELS = [
    ("tmall", "Tmall flagship store 天猫旗舰店", "web", 5, "tmall"),
    ("jd", "JD.com marketplace 京东", "marketplace", 4, "jd"),
    ("wechat", "WeChat mini-program 微信小程序", "app", 5, "wechat"),
]
CHANNEL_WEIGHTS = [45, 35, 20]

# ---- recipients -------------------------------------------------------------------------------
# (hanzi, pinyin)
SURNAMES = [
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
    ("高", "gao"),
    ("罗", "luo"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("许", "xu"),
    ("韩", "han"),
    ("冯", "feng"),
    ("邓", "deng"),
    ("曹", "cao"),
    ("欧阳", "ouyang"),
    ("司马", "sima"),
]
GIVEN_NAMES = [
    ("芳", "fang"),
    ("伟", "wei"),
    ("娜", "na"),
    ("秀英", "xiuying"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀兰", "xiulan"),
    ("霞", "xia"),
    ("平", "ping"),
    ("刚", "gang"),
    ("桂英", "guiying"),
    ("子涵", "zihan"),
    ("梓萱", "zixuan"),
    ("浩然", "haoran"),
    ("一诺", "yinuo"),
    ("思远", "siyuan"),
    ("欣怡", "xinyi"),
    ("宇轩", "yuxuan"),
    ("雨桐", "yutong"),
    ("俊杰", "junjie"),
]
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "158",
    "159",
    "166",
    "173",
    "177",
    "180",
    "181",
    "182",
    "186",
    "187",
    "188",
    "189",
    "199",
]

# (city as in places.csv, province hanzi, city hanzi, districts, weight)
CITIES = [
    ("Shanghai", "上海市", "上海市", ["浦东新区", "徐汇区", "静安区", "闵行区", "杨浦区", "长宁区"], 14),
    ("Beijing", "北京市", "北京市", ["朝阳区", "海淀区", "东城区", "西城区", "丰台区", "通州区"], 12),
    ("Guangzhou", "广东省", "广州市", ["天河区", "越秀区", "海珠区", "番禺区", "白云区"], 8),
    ("Shenzhen", "广东省", "深圳市", ["南山区", "福田区", "罗湖区", "宝安区", "龙华区"], 8),
    ("Hangzhou", "浙江省", "杭州市", ["西湖区", "滨江区", "拱墅区", "余杭区", "上城区"], 6),
    ("Nanjing", "江苏省", "南京市", ["鼓楼区", "玄武区", "秦淮区", "建邺区"], 4),
    ("Suzhou", "江苏省", "苏州市", ["姑苏区", "工业园区", "吴中区", "相城区"], 4),
    ("Wuxi", "江苏省", "无锡市", ["梁溪区", "滨湖区", "新吴区"], 2),
    ("Ningbo", "浙江省", "宁波市", ["鄞州区", "海曙区", "江北区"], 2),
    ("Chengdu", "四川省", "成都市", ["锦江区", "武侯区", "青羊区", "高新区", "成华区"], 5),
    ("Chongqing", "重庆市", "重庆市", ["渝中区", "江北区", "南岸区", "九龙坡区"], 4),
    ("Wuhan", "湖北省", "武汉市", ["武昌区", "江汉区", "洪山区", "汉阳区"], 4),
    ("Changsha", "湖南省", "长沙市", ["岳麓区", "芙蓉区", "天心区", "开福区"], 3),
    ("Xi'an", "陕西省", "西安市", ["雁塔区", "碑林区", "未央区", "莲湖区"], 3),
    ("Tianjin", "天津市", "天津市", ["和平区", "南开区", "河西区", "滨海新区"], 3),
    ("Zhengzhou", "河南省", "郑州市", ["金水区", "二七区", "中原区", "郑东新区"], 2),
    ("Jinan", "山东省", "济南市", ["历下区", "市中区", "槐荫区"], 2),
    ("Qingdao", "山东省", "青岛市", ["市南区", "市北区", "崂山区", "黄岛区"], 2),
    ("Xiamen", "福建省", "厦门市", ["思明区", "湖里区", "集美区"], 2),
    ("Fuzhou", "福建省", "福州市", ["鼓楼区", "台江区", "仓山区"], 1),
    ("Hefei", "安徽省", "合肥市", ["蜀山区", "包河区", "庐阳区"], 2),
    ("Nanchang", "江西省", "南昌市", ["东湖区", "西湖区", "红谷滩区"], 1),
    ("Shenyang", "辽宁省", "沈阳市", ["和平区", "沈河区", "浑南区"], 2),
    ("Dalian", "辽宁省", "大连市", ["中山区", "沙河口区", "甘井子区"], 1),
    ("Harbin", "黑龙江省", "哈尔滨市", ["南岗区", "道里区", "香坊区"], 1),
    ("Changchun", "吉林省", "长春市", ["朝阳区", "南关区", "绿园区"], 1),
    ("Kunming", "云南省", "昆明市", ["五华区", "盘龙区", "官渡区"], 1),
    ("Guiyang", "贵州省", "贵阳市", ["南明区", "云岩区", "观山湖区"], 1),
    ("Nanning", "广西壮族自治区", "南宁市", ["青秀区", "兴宁区", "西乡塘区"], 1),
    ("Haikou", "海南省", "海口市", ["龙华区", "美兰区", "秀英区"], 1),
    ("Dongguan", "广东省", "东莞市", ["南城街道", "东城街道", "松山湖"], 1),
    ("Foshan", "广东省", "佛山市", ["禅城区", "南海区", "顺德区"], 1),
    ("Shijiazhuang", "河北省", "石家庄市", ["长安区", "桥西区", "裕华区"], 1),
    ("Taiyuan", "山西省", "太原市", ["小店区", "迎泽区", "杏花岭区"], 1),
    ("Lanzhou", "甘肃省", "兰州市", ["城关区", "七里河区", "安宁区"], 1),
    ("Urumqi", "新疆维吾尔自治区", "乌鲁木齐市", ["天山区", "沙依巴克区", "新市区"], 1),
    ("Hohhot", "内蒙古自治区", "呼和浩特市", ["新城区", "回民区", "赛罕区"], 1),
]
STREETS = [
    "人民路",
    "中山路",
    "解放路",
    "建设路",
    "和平路",
    "长江路",
    "文化路",
    "新华路",
    "南京路",
    "滨江大道",
    "科技路",
    "学府路",
    "光明路",
    "幸福路",
    "湖滨路",
    "锦绣路",
    "望京街",
    "春华路",
    "东风路",
    "花园路",
]
COMMUNITIES = [
    "阳光花园",
    "锦绣华庭",
    "翠湖天地",
    "万科城",
    "碧桂园",
    "金色家园",
    "绿地世纪城",
    "保利香槟",
    "龙湖春江",
    "华润二十四城",
    "世纪公寓",
    "滨江花园",
]

# ---- free text --------------------------------------------------------------------------------
ORDER_NOTES = [
    "请放快递柜 Please leave it in the parcel locker",
    "送货前请电话联系 Please call before delivery",
    "礼品包装，不要放发票 Gift wrap, no invoice in the box",
    "工作日白天家里没人 Nobody home on weekday daytime",
    "放门卫室即可 Leave it with the building guard",
]
UNKNOWN_SKUS = ["TM-6521-XL", "JD-100234-RED", "WX-GIFT-2025", "TEA-LJ-500", "COF-YN-2KG"]
MANUAL_HOLDS = [
    ("manual", "客户要求下周再发货 Customer asked to ship next week"),
    ("fraud_review", "新账户大额订单，待风控审核 New account, high value: fraud review"),
    ("payment", "银行转账未到账 Bank transfer not yet received"),
    ("manual", "客户要改收货地址，等待回复 Customer wants to change the address, waiting for reply"),
]
CANCEL_REASONS = [
    "客户申请取消 Customer asked to cancel",
    "客户重复下单 Customer ordered twice",
    "价格错误，已与客户协商取消 Price error, cancelled with the customer's agreement",
    "长时间无法联系客户 Customer unreachable",
]
RELEASE_NOTES = [
    ("manual", "客户来电确认收货时间 Customer called to confirm the delivery time"),
    ("manual", "已核对地址 Address checked with the customer"),
]
COURIERS = ["李师傅", "王师傅", "张师傅", "陈师傅", "刘师傅", "赵师傅"]
DELIVERED_TEXTS = [
    "已签收，签收人：本人 Delivered, signed by the recipient",
    "已签收，放入丰巢快递柜 Delivered to a parcel locker",
    "已签收，门卫代收 Delivered, received by the building guard",
    "已签收，家人代收 Delivered, received by a family member",
]
EXCEPTION_TEXTS = [
    ("exception", "地址不详，正在联系收件人 Address unclear, contacting the recipient"),
    ("failed_attempt", "收件人电话无人接听，明日再派 Recipient not answering, will retry tomorrow"),
]


def ean13(body12: str) -> str:
    """A 12-digit body with its EAN-13 check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def money(value: str) -> Decimal:
    return Decimal(value)
