/* SPDX-License-Identifier: MIT */
/*
 * The classifier's keyword families: simplified Chinese, traditional Chinese
 * and English, each with weights for verification / notice / marketing.
 *
 * Weights are small integers on one scale: 1 a hint, 2-3 typical of a class,
 * 4-6 nearly decisive. What makes a message a verification code is mostly the
 * code detector (see classify.h), so verification words here are modest and
 * only the "code-naming" ones carry a reach. Words that name codes which are
 * NOT one-time passwords (pickup, coupon, ticket codes) carry a strongly
 * negative verification weight so that they cancel the detector's bonus.
 * Digits in a keyword stand for any number; '-', '/' and spaces are ignored;
 * ASCII is matched case-insensitively. Keep entries grouped by family.
 */
#include "classify.h"

/* clang-format off */
#define R 10 /* reach of a word that names a code: "验证码 123456" */
#define W 3  /* reach of a verb that may precede one: "Enter 123456" */

#define C(s, v, r)    {s, v, 0, 0, r}
#define V(s, w)       {s, w, 0, 0, 0}
#define N(s, w)       {s, 0, w, 0, 0}
#define M(s, w)       {s, 0, 0, w, 0}
#define X(s, v, n, m) {s, v, n, m, 0}

const struct smsr__cls_word smsr__cls_words[] = {
	/* --- one-time codes, Chinese: names of the code ------------------- */
	C("验证码", 4, R), C("驗證碼", 4, R), C("校验码", 4, R), C("校驗碼", 4, R), C("动态码", 4, R),
	C("動態碼", 4, R), C("动态密码", 4, R), C("動態密碼", 4, R), C("认证码", 4, R), C("認證碼", 4, R),
	C("确认码", 3, R), C("確認碼", 3, R), C("随机码", 4, R), C("隨機碼", 4, R), C("安全码", 3, R),
	C("安全碼", 3, R), C("交易码", 3, R), C("交易碼", 3, R), C("注册码", 3, R), C("註冊碼", 3, R),
	C("授权码", 3, R), C("授權碼", 3, R), C("登录码", 4, R), C("登入碼", 4, R), C("短信码", 4, R),
	C("简讯码", 4, R), C("口令", 3, R), C("一次性", 3, R), C("密码", 1, 6), C("密碼", 1, 6),
	C("otp", 4, R), C("识别码", 3, R), C("识别碼", 3, R), C("驗證", 2, 6), C("验证", 2, 6),
	/* --- one-time codes, Chinese: what surrounds them ------------------- */
	V("登录", 2), V("登錄", 2), V("登入", 2), V("注册", 2), V("註冊", 2), V("找回", 2), V("重置", 2),
	V("修改", 1), V("绑定", 2), V("綁定", 2), V("解绑", 2), V("实名", 1), V("认证", 1), V("認證", 1),
	V("身份", 1), V("泄露", 3), V("洩露", 3), V("外洩", 3), V("外泄", 3), V("透露", 3), V("告知", 2),
	V("告诉", 2), V("告訴", 2), V("他人", 2), V("切勿", 2), V("请勿", 1), V("請勿", 1), V("转发", 1),
	V("轉發", 1), V("非本人", 1), V("本人操作", 1), V("您正在", 3), V("正在进行", 1), V("正在進行", 1),
	V("正在办理", 1), V("有效期", 1), V("有效時間", 1), V("1分钟内", 2), V("1分鐘內", 2), V("1秒", 1),
	V("输入", 2), V("輸入", 2), V("填写", 1), V("分享", 1), V("开户", 1), V("開戶", 1), V("签约", 1),
	/* codes that are not one-time passwords */
	X("取件码", -12, 6, 0), X("取件碼", -12, 6, 0), X("取货码", -12, 6, 0), X("取貨碼", -12, 6, 0),
	X("提货码", -12, 6, 0), X("提貨碼", -12, 6, 0), X("取餐码", -12, 6, 0), X("取餐碼", -12, 6, 0),
	X("取餐号", -12, 6, 0), X("取票码", -12, 6, 0), X("取票碼", -12, 6, 0), X("柜门", -6, 4, 0),
	X("优惠码", -12, 0, 6), X("優惠碼", -12, 0, 6), X("兑换码", -12, 0, 5), X("兌換碼", -12, 0, 5),
	X("券码", -12, 0, 5), X("邀请码", -12, 0, 5), X("邀請碼", -12, 0, 5), X("订位代号", -12, 5, 0),
	X("訂位代號", -12, 5, 0), X("排队号", -12, 5, 0), X("看诊号", -12, 5, 0), X("看診號", -12, 5, 0),
	X("就诊序号", -12, 5, 0), X("密码已", -6, 6, 0), X("密碼已", -6, 6, 0), X("修改成功", -6, 6, 0),
	X("新设备", -4, 4, 0), X("新裝置", -4, 4, 0), X("尾号", 0, 3, 0), X("尾號", 0, 3, 0),
	/* --- one-time codes, English ------------------------------------- */
	C("code", 3, R), C("passcode", 4, R), C("pin", 3, R), C("otp", 4, R), C("one time", 3, R),
	C("password", 1, 6), C("token", 2, 6), C("verification", 3, R), C("authentication", 3, R),
	C("verify", 2, 5), C("enter", 1, W), C("use", 0, W), C("confirm", 1, W), C("2fa", 3, R),
	V("security code", 2), V("login code", 2), V("sign in", 2), V("signin", 2), V("log in", 2),
	V("login", 2), V("sign on", 2), V("sign up", 1), V("dont share", 3), V("do not share", 3),
	V("never share", 3), V("not share", 2), V("share it", 1), V("share this", 1),
	V("disclose", 2), V("never ask", 2), V("never call", 2), V("will never", 1),
	V("do not give", 3), V("expires in", 1), V("valid for", 1), V("your account", 1),
	V("reset", 1), V("is your", 2),
	/* codes that are not one-time passwords */
	X("promo code", -12, 0, 6), X("coupon code", -12, 0, 6), X("discount code", -12, 0, 6),
	X("offer code", -12, 0, 6), X("use code", 0, 0, 2), X("with code", -6, 0, 4),
	X("pickup code", -12, 6, 0), X("pick up code", -12, 6, 0), X("locker code", -12, 6, 0),
	X("check in code", -12, 6, 0), X("gate code", -12, 5, 0), X("door code", -12, 5, 0),
	X("confirmation number", -12, 5, 0), X("order number", -12, 5, 0),
	X("tracking number", -12, 5, 0), X("reference number", -12, 5, 0), X("pickup", -2, 3, 0),
	X("pick up", -2, 3, 0), X("password was", -6, 5, 0), X("password has", -6, 5, 0),
	X("was changed", -4, 4, 0), X("new sign in", -6, 5, 0), X("new device", -4, 4, 0),
	X("wasnt you", -2, 3, 0),
	/* --- notices, Chinese -------------------------------------------- */
	N("快递", 3), N("快遞", 3), N("快件", 3), N("包裹", 3), N("派送", 3), N("派件", 3), N("签收", 3),
	N("簽收", 3), N("驿站", 3), N("驛站", 3), N("取件", 3), N("取货", 3), N("取貨", 3), N("领取", 0),
	N("物流", 2), N("运单", 3), N("運單", 3), N("单号", 2), N("單號", 2), N("发货", 3), N("發貨", 3),
	N("出貨", 3), N("送达", 3), N("送達", 3), N("配送", 2), N("投递", 3), N("揽收", 3), N("攬收", 3),
	N("已到达", 2), N("已到達", 2), N("快递柜", 3), N("智能柜", 3), N("智能櫃", 3), N("出库", 3), N("接单", 2),
	N("骑手", 3), N("司机", 2), N("司機", 2), N("车牌", 3), N("車牌", 3), N("航班", 4), N("登机", 4),
	N("登機", 4), N("起飞", 3), N("起飛", 3), N("值机", 4), N("延误", 4), N("延誤", 4), N("改签", 3),
	N("列车", 3), N("检票", 3), N("次列车", 2), N("车厢", 2), N("車廂", 2), N("座位", 1), N("出票", 3),
	N("退票", 3), N("入住", 2), N("行程", 2), N("账单", 4), N("帳單", 4), N("賬單", 4), N("还款", 3),
	N("繳款", 3), N("缴费", 3), N("繳費", 3), N("缴纳", 3), N("扣款", 3), N("余额", 3), N("餘額", 3),
	N("结欠", 3), N("消费", 3), N("消費", 3), N("支出", 3), N("收入", 3), N("到账", 3), N("入帳", 3),
	N("转入", 3), N("轉入", 3), N("转账", 1), N("轉帳", 1), N("交易", 1), N("退款", 3), N("放款", 3),
	N("缴存", 3), N("工资", 3), N("薪资", 3), N("薪資", 3), N("额度", 1), N("预约", 3), N("預約", 3),
	N("就诊", 3), N("門診", 3), N("门诊", 3), N("看診", 3), N("覆診", 3), N("体检", 2), N("报告", 2),
	N("報告", 2), N("接种", 3), N("疫苗", 2), N("检验", 2), N("核酸", 2), N("停水", 4), N("停电", 4),
	N("停電", 4), N("停气", 4), N("供气", 3), N("检修", 3), N("維修", 2), N("维修", 2), N("维保", 3),
	N("施工", 3), N("预警", 4), N("警報", 4), N("警报", 4), N("台风", 3), N("颱風", 3), N("暴雨", 3),
	N("信號", 2), N("提醒", 2), N("温馨提示", 2), N("通知", 2), N("到期", 2), N("续费", 1), N("續約", 2),
	N("续保", 2), N("欠费", 3), N("停机", 2), N("开庭", 4), N("诉讼", 3), N("違規", 3), N("违法", 3),
	N("家长", 3), N("家長", 3), N("放假", 2), N("停止上班", 3), N("社保", 2), N("公积金", 3), N("已完成", 2),
	N("完成", 1), N("已确认", 2), N("已確認", 2), N("已成功", 2), N("成功", 1), N("订单", 1), N("訂單", 1),
	N("您的订单", 2), N("您的訂單", 2), N("已发出", 3), N("预计", 2), N("預計", 2), N("请及时", 2), N("請及時", 2),
	N("请按时", 2), N("准时", 2), N("准時", 2), N("已办结", 3), N("领取", 1), N("已出", 1), N("话费", 2),
	N("流量", 1), N("已使用", 2), N("剩余", 2), N("已激活", 2), N("电费", 3), N("電費", 3), N("水费", 3),
	N("物业费", 3), N("户号", 3), N("已开具", 3), N("受理", 2), N("已审核", 2), N("感谢使用", 1), N("敬请", 1),
	N("谅解", 2), N("注意安全", 3), N("请注意", 1), N("请留意", 2), N("請留意", 2), N("留意", 1), N("自动加值", 3),
	N("自動加值", 3), N("已寄出", 3), N("请到", 2), N("請至", 2), N("请至", 2), N("窗口", 2), N("召开", 3),
	N("召開", 3), N("地点", 2), N("地點", 2), N("大会", 2), N("会议", 2), N("招領", 3), N("招领", 3),
	N("郵局", 3), N("邮局", 3), N("製作完成", 2), N("制作完成", 2), N("已就绪", 2), N("受阻", 3),
	/* --- notices, English -------------------------------------------- */
	N("delivered", 4), N("delivery", 2), N("shipped", 4), N("shipment", 4), N("package", 4),
	N("parcel", 4), N("order", 1), N("your order", 1), N("tracking", 3), N("track", 2),
	N("out for delivery", 3), N("arriving", 3), N("arrive", 2), N("on its way", 3),
	N("on the way", 3), N("driver", 3), N("ride", 2), N("flight", 4), N("gate", 3),
	N("boarding", 4), N("departs", 3), N("departure", 3), N("departing", 3), N("delayed", 4),
	N("cancelled", 3), N("canceled", 3), N("check in", 2), N("bill", 3), N("statement", 3),
	N("due", 2), N("payment", 2), N("received", 3), N("balance", 3), N("deposit", 2),
	N("deposited", 3), N("transaction", 2), N("purchase", 1), N("charged", 3), N("ending", 2),
	N("card ending", 2), N("account ending", 2), N("withdrawal", 4), N("transfer", 1),
	N("declined", 3), N("overdrawn", 4), N("autopay", 4), N("refund", 3), N("appointment", 4),
	N("reminder", 3), N("confirmed", 3), N("reservation", 3), N("prescription", 4), N("rx", 3),
	N("ready", 2), N("outage", 4), N("restored", 4), N("maintenance", 3), N("alert", 3),
	N("warning", 3), N("scheduled", 2), N("closed", 2), N("results", 3), N("claim", 2),
	N("policy", 2), N("renews", 3), N("renewal", 2), N("technician", 3), N("repair", 3),
	N("is complete", 2), N("completed", 2), N("has been", 2), N("was made", 3),
	N("is ready", 2), N("are ready", 2), N("processed", 3), N("posted", 3), N("due on", 2),
	N("due by", 2), N("will arrive", 2), N("in transit", 4), N("lifted", 2), N("storm", 2),
	N("dismissal", 3), N("did you make", 3), N("reply yes", 2), N("reply c", 2),
	N("reply y", 2), N("plate", 3), N("look for", 2), N("rental", 2), N("room", 1),
	N("usage", 2), N("used", 1), N("you paid", 4), N("paid you", 4), N("you received", 4),
	N("youve received", 4), N("returned", 2), N("your return", 3), N("receipt", 3),
	N("total", 1), N("approved", 2), N("updated", 2), N("has shipped", 2), N("is due", 2),
	N("library", 2), N("hold", 1), N("confirmation", 1), N("arrives", 3), N("service", 1),
	N("interrupt", 3), N("stops away", 3), N("signature", 3), N("to savings", 5),
	N("to checking", 5),
	/* --- marketing, Chinese ------------------------------------------ */
	M("优惠", 3), M("優惠", 3), M("1折", 4), M("折起", 3), M("折扣", 3), M("满1减", 5), M("滿1減", 5),
	M("满1送", 5), M("滿1送", 5), M("每满", 4), M("立减", 4), M("立減", 4), M("直降", 4), M("低至", 4),
	M("特价", 4), M("特價", 4), M("特惠", 4), M("秒杀", 4), M("限时", 3), M("限時", 3), M("限量", 3),
	M("抢购", 4), M("搶購", 4), M("开抢", 4), M("抢", 2), M("搶", 2), M("领取", 1), M("領取", 1),
	M("领券", 4), M("領券", 4), M("券", 2), M("红包", 3), M("紅包", 3), M("包邮", 4), M("免运", 3),
	M("免運", 3), M("送1", 1), M("买一送一", 5), M("買一送一", 5), M("买1送", 4), M("買1送", 4), M("第二杯", 4),
	M("第二份", 4), M("第二支", 4), M("第二个", 4), M("半价", 4), M("半價", 4), M("新品", 3), M("上新", 3),
	M("上市", 2), M("会员日", 4), M("會員日", 4), M("专享", 3), M("專享", 3), M("專屬", 2), M("积分", 2),
	M("積分", 2), M("双倍", 3), M("雙倍", 3), M("好礼", 4), M("好禮", 4), M("礼包", 3), M("禮包", 3),
	M("大促", 4), M("年货节", 4), M("狂欢", 4), M("周年庆", 4), M("週年慶", 4), M("年終慶", 4), M("年终", 2),
	M("年終", 2), M("开跑", 3), M("開跑", 3), M("活动", 2), M("活動", 2), M("抽奖", 4), M("抽", 1),
	M("免费", 2), M("免費", 2), M("体验课", 4), M("試聽", 3), M("试听", 3), M("报名", 2), M("名额有限", 4),
	M("新用户", 3), M("新人", 3), M("新户", 3), M("新戶", 3), M("新客", 3), M("首单", 3), M("首單", 3),
	M("首刷", 3), M("首月", 3), M("回馈", 3), M("回饋", 3), M("感恩", 2), M("福利", 3), M("爆款", 4),
	M("爆品", 4), M("清仓", 4), M("划算", 3), M("快来", 3), M("快來", 3), M("立即", 1), M("马上", 2),
	M("欢迎", 2), M("歡迎", 2), M("邀请", 3), M("邀請", 3), M("诚邀", 4), M("品鉴", 3), M("好久不见", 4),
	M("回归", 3), M("老朋友", 3), M("老客户", 3), M("老用户", 3), M("降价", 3), M("退订", 3), M("退訂", 3),
	M("拒收", 3), M("回t", 1), M("回n", 1), M("套餐", 2), M("分期免息", 4), M("利率", 3), M("年化", 3),
	M("理财节", 4), M("待领取", 3), M("只需", 3), M("仅需", 3), M("僅需", 3), M("1元起", 3), M("元起", 3),
	M("加购", 3), M("加購", 3), M("送你", 3), M("送您", 3), M("赠送", 3), M("贈送", 2), M("来店禮", 4),
	M("來店禮", 4), M("滿額", 3), M("满额", 3), M("禮券", 3), M("礼券", 3), M("购物金", 4), M("購物金", 4),
	M("闪购", 4), M("閃購", 4), M("盲盒", 3), M("打卡", 2), M("尝鲜", 3), M("嘗鮮", 3), M("预订", 1),
	M("預訂", 1), M("早鸟", 4), M("早鳥", 4), M("选购", 3), M("選購", 3), M("吃到飽", 3), M("申辦", 2),
	M("办理", 1), M("月付", 2), M("以旧换新", 4), M("补贴", 3), M("補貼", 3), M("开业", 3), M("開幕", 3),
	M("好房", 3), M("首付", 2), M("促销", 4), M("促銷", 4), M("折", 2), M("送", 1), M("抢先", 3),
	M("搶先", 3), M("开售", 3), M("開賣", 3), M("预售", 3), M("囤", 3), M("特卖", 4), M("特賣", 4),
	M("钜惠", 4), M("豪礼", 4), M("豪禮", 4), M("赠品", 3), M("贈品", 3), M("会员专享", 2), M("升级", 2),
	M("升級", 2), M("体验", 1), M("限定", 3), M("本周", 1), M("本週", 1), M("周末", 1), M("週末", 1),
	M("新春", 2), M("礼遇", 3), M("禮遇", 3), M("优选", 2), M("加送", 3), M("再送", 3), M("额度待", 3),
	M("最高", 2), M("省", 2),
	/* --- marketing, English ------------------------------------------ */
	M("off", 3), M("% off", 3), M("1% off", 1), M("sale", 4), M("sales", 3), M("deal", 4),
	M("deals", 4), M("save", 3), M("savings", 4), M("shop", 4), M("shop now", 2), M("free", 2),
	M("offer", 3), M("exclusive", 3), M("limited time", 4), M("today only", 4),
	M("ends tonight", 4), M("ends sunday", 3), M("hurry", 4), M("coupon", 5), M("coupons", 5),
	M("promo", 4), M("discount", 4), M("discounts", 4), M("bogo", 5), M("buy one", 4),
	M("buy 1", 4), M("get one", 2), M("get 1", 2), M("half price", 4), M("rewards", 2),
	M("reward", 2), M("points", 2), M("double", 2), M("members", 2), M("member", 2),
	M("join", 2), M("join us", 3), M("we miss you", 5), M("miss you", 3), M("come back", 4),
	M("been a while", 4), M("your cart", 4), M("in your cart", 3), M("invited", 4),
	M("invite", 3), M("refer", 4), M("win", 3), M("enter to win", 3), M("gift", 2),
	M("gift card", 2), M("new arrivals", 4), M("just dropped", 4), M("just landed", 4),
	M("upgrade", 3), M("switch", 2), M("try", 2), M("free trial", 3), M("1 mo", 3), M("mo", 1),
	M("apr", 3), M("book now", 3), M("order now", 4), M("book by", 2), M("reply stop", 2),
	M("opt out", 1), M("unsubscribe", 2), M("txt stop", 3), M("text stop", 3), M("stop to", 1),
	M("as low as", 4), M("up to", 3), M("starting at", 3), M("only 1", 3), M("just 1", 3),
	M("just $1", 3), M("only $1", 3), M("combo", 2), M("for 1", 1), M("black friday", 5),
	M("cyber", 4), M("flash", 3), M("clearance", 4), M("markdowns", 4), M("bonus", 3),
	M("miles", 1), M("earn", 2), M("happy hour", 4), M("happy birthday", 3), M("birthday", 2),
	M("kids eat free", 4), M("eat free", 3), M("treat", 2), M("event", 2),
	M("grand opening", 4), M("open house", 4), M("rsvp", 3), M("vip", 3), M("early access", 4),
	M("dont miss", 4), M("last chance", 5), M("new season", 3), M("watch now", 3),
	M("on us", 4), M("trade in", 3), M("check out", 2), M("complimentary", 3),
	M("live music", 4), M("redeem", 3), M("claim your", 2), M("stamps", 3), M("lowest", 3),
	M("prices", 3), M("fares", 4), M("special", 3), M("extra", 2), M("get", 1), M("enjoy", 2),
	M("every", 1), M("now", 1), M("new", 1), M("sweet", 1), M("plan", 1), M("unlimited", 2),
	M("per month", 3), M("month", 1), M("this week", 2), M("this weekend", 3), M("weekend", 2),
	M("tonight", 1), M("secret", 2), M("genius", 2), M("bundle", 3), M("cruises", 3),
	M("getaway", 4), M("dropped", 2), M("favorite", 2), M("% back", 3), M("cash back", 3),
	M("anytime", 2), M("register now", 3), M("sign up now", 3), M("visit", 1),
	M("show this", 3), M("store", 1),
};
/* clang-format on */

const size_t smsr__cls_nwords = sizeof(smsr__cls_words) / sizeof(smsr__cls_words[0]);
