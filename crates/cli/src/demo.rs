//! `infrafi demo`: a depositor's whole journey through the core, in memory, step by step:
//! mint, stake, harvest, request, service, claim, redeem. Every figure printed is read back
//! from the state after the step.

use anyhow::anyhow;
use infrafi_core::{
    Action, Address, Amount, Asset, Rate, RequestId, Role, State,
    action::{
        Claim, HarvestBaseYield, MintUsdai, PostTbillRate, RedeemUsdai, RequestRedeem,
        ServiceQueue, Stake,
    },
    ids::USDC,
    invariants, points, queue, reserve, vault,
};
use infrafi_testkit::{Driver, funded_market, role_address, user_address};

const DAY_SECS: u64 = 86_400;

fn step(driver: &mut Driver, who: &str, sender: Address, action: Action) -> anyhow::Result<()> {
    let name = action.name();
    driver.apply(sender, action).map_err(|e| anyhow!("{who}: {name} rejected: {e}"))?;
    invariants::check(&driver.state).map_err(|e| anyhow!("invariant broken after {name}: {e}"))?;
    println!("  ok  {who:<8} {name}");
    Ok(())
}

fn usd(amount: Amount) -> String {
    // Two decimals for display only; the state keeps all eighteen.
    let cents = amount.0 / 10u128.pow(16);
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn price(wad: u128) -> String {
    format!("{}.{:09}", wad / 10u128.pow(18), (wad % 10u128.pow(18)) / 10u128.pow(9))
}

fn show_vault(state: &State) {
    let nav = vault::nav(state);
    println!(
        "      vault: NAV {} USDai (unvested yield {}), {} sUSDai, deposit price {}, redemption price {}",
        usd(nav.optimistic),
        usd(nav.unvested),
        usd(nav.share_supply),
        price(nav.deposit_price_wad()),
        price(nav.redemption_price_wad()),
    );
}

fn show_balances(state: &State, who: &str, address: Address) {
    let balance = |asset| usd(state.ledger.balance(address, asset));
    println!(
        "      {who}: {} USDC, {} USDai, {} sUSDai, {} points",
        balance(Asset::Stablecoin(USDC)),
        balance(Asset::Usdai),
        balance(Asset::Susdai),
        usd(Amount(points::points_of(state, address))),
    );
}

pub(crate) fn run() -> anyhow::Result<()> {
    let alice = user_address(0);
    let bob = user_address(1);
    let keeper = user_address(2);
    let oracle = role_address(Role::Oracle);
    let state = funded_market(2, Amount::from_whole(100_000), |_| {});
    let mut driver = Driver::new(state);
    let whole = Amount::from_whole;

    println!("infrafi demo: one depositor's journey (in memory, pure core)\n");
    println!("1. The oracle posts a 4.50% T-bill yield; alice and bob mint USDai from USDC.");
    step(
        &mut driver,
        "oracle",
        oracle,
        Action::PostTbillRate(PostTbillRate { rate: Rate::from_apr_bps(450) }),
    )?;
    step(
        &mut driver,
        "alice",
        alice,
        Action::MintUsdai(MintUsdai {
            token: USDC,
            amount: whole(100_000),
            min_out: whole(100_000),
        }),
    )?;
    step(
        &mut driver,
        "bob",
        bob,
        Action::MintUsdai(MintUsdai { token: USDC, amount: whole(50_000), min_out: whole(50_000) }),
    )?;
    let backing = reserve::backing(&driver.state)
        .map_err(|_| anyhow!("the reserve's value overflows 128 bits"))?;
    println!(
        "      reserve: {} USD of T-bills back {} USDai",
        usd(backing.reserve_value),
        usd(backing.usdai_supply)
    );

    println!(
        "\n2. Both stake their USDai for sUSDai (Genesis phase: capital idle, earning T-bill yield)."
    );
    step(
        &mut driver,
        "alice",
        alice,
        Action::Stake(Stake { assets: whole(100_000), min_shares: whole(99_000) }),
    )?;
    step(
        &mut driver,
        "bob",
        bob,
        Action::Stake(Stake { assets: whole(50_000), min_shares: whole(49_000) }),
    )?;
    show_vault(&driver.state);

    println!("\n3. Thirty days pass; a keeper harvests the reserve's surplus into the vault.");
    driver.advance(30 * DAY_SECS);
    let backing = reserve::backing(&driver.state)
        .map_err(|_| anyhow!("the reserve's value overflows 128 bits"))?;
    println!("      reserve surplus: {} USDai of base yield", usd(backing.surplus));
    step(&mut driver, "keeper", keeper, Action::HarvestBaseYield(HarvestBaseYield {}))?;
    show_vault(&driver.state);
    println!(
        "      (the yield vests into NAV over 8 hours, so nobody can stake just before a harvest)"
    );
    driver.advance(8 * 3_600);
    show_vault(&driver.state);

    println!("\n4. Alice asks to redeem all her shares; they wait out the 7-day notice period.");
    let shares = driver.state.ledger.balance(alice, Asset::Susdai);
    step(&mut driver, "alice", alice, Action::RequestRedeem(RequestRedeem { shares }))?;
    let request =
        driver.state.queue.requests.get(&RequestId(0)).cloned().ok_or(anyhow!("no request"))?;
    println!(
        "      request 0: {} sUSDai, eligible at {}",
        usd(request.shares_remaining),
        request.eligible_at
    );
    driver.advance(7 * DAY_SECS);
    println!("      round liquidity now: {} USDai", usd(queue::round_liquidity(&driver.state)?));

    println!(
        "\n5. A keeper runs a servicing round; alice claims her USDai and redeems it for USDC."
    );
    step(&mut driver, "keeper", keeper, Action::ServiceQueue(ServiceQueue { max_requests: 100 }))?;
    let round = driver.state.queue.rounds.get(&0).cloned().ok_or(anyhow!("no round"))?;
    println!(
        "      round 0: {} sUSDai burned for {} USDai ({} request)",
        usd(round.served_shares),
        usd(round.served_assets),
        round.requests_served
    );
    step(&mut driver, "alice", alice, Action::Claim(Claim { request_id: RequestId(0) }))?;
    let usdai = driver.state.ledger.balance(alice, Asset::Usdai);
    step(
        &mut driver,
        "alice",
        alice,
        Action::RedeemUsdai(RedeemUsdai { token: USDC, amount: usdai, min_out: Amount::ZERO }),
    )?;
    show_balances(&driver.state, "alice", alice);
    show_balances(&driver.state, "bob", bob);
    show_vault(&driver.state);

    println!("\nEvery SPEC 14 invariant held after every step.");
    println!("state hash at height {}: {}", driver.state.height(), driver.state.state_hash());
    Ok(())
}
