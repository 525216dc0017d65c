//! With no volatility and no defaults, the sUSDai APY the simulator realises through the real
//! state machine equals the closed-form blended yield of the book to within one basis point.
//!
//! The closed form: each 30-day month the redemption NAV grows by
//! - every senior installment's interest net of fees, `B x (1 - performance fee)(1 - curator
//!   fee)`, with the balance `B` and the level payment of the annuity formula
//!   `B x / (1 - (1 + x)^-M)` (`x` the period rate, `M` the payments left), and
//! - the base yield net of the yield fee: the T-bill rate for the month on the reserve, which
//!   backs every USDai in supply (the vault's idle USDai, the curators' first-loss pools and
//!   fee balances, SPEC 5), so the "idle share" earns `g = rate x 30 days` on all of them;
//!
//! and the supply grows by what is harvested and by what borrowers bring in. Nothing in it
//! comes from the simulator or the core except the book's starting figures.

mod common;

use infrafi_core::{Asset, ProtocolAccount, WAD, loans::LoanStatus, vault};
use infrafi_sim::{Simulation, book::MONTH, convert};

fn closed_form_apy(simulation: &Simulation) -> f64 {
    let book = &simulation.book;
    let state = &book.state;
    let params = state.governance.params.get();
    let performance_fee = convert::bps(params.performance_fee_bps.0);
    let yield_fee = convert::bps(params.yield_fee_bps.0);
    let months = simulation.scenario.horizon_months as usize;
    let rate = convert::apr_to_rate(f64::from(simulation.scenario.tbill.initial_apr_bps) / 1e4);
    let g = rate.0 as f64 * MONTH as f64 / WAD as f64;

    // Net senior interest and cash in, by month, from the annuity formula.
    let mut interest_net = vec![0.0; months];
    let mut cash_in = vec![0.0; months];
    for loan in state.loans.loans.iter().map(|(_, loan)| loan) {
        if loan.status != LoanStatus::Active {
            continue;
        }
        assert!(loan.junior.principal.is_zero() && loan.exit_fee.is_zero());
        let silo = state.silos.silos.get(&loan.silo).expect("silo");
        let curator_fee = convert::bps(silo.terms.curator_fee_bps.0);
        let x = loan.rate.0 as f64 * loan.interval_secs as f64 / WAD as f64;
        let periods = loan.periods_remaining as i32;
        let mut balance = convert::amount_to_usd(loan.balance);
        let payment = balance * x / (1.0 - (1.0 + x).powi(-periods));
        let first = ((loan.next_due_at - book.start) / MONTH) as usize;
        assert_eq!((loan.next_due_at - book.start) % MONTH, 0, "due on a month boundary");
        for n in 0..periods as usize {
            let month = first + n;
            let interest = balance * x;
            let principal = if n + 1 == periods as usize { balance } else { payment - interest };
            if month < months {
                interest_net[month] += interest * (1.0 - performance_fee) * (1.0 - curator_fee);
                cash_in[month] += interest + principal;
            }
            balance -= principal;
        }
    }

    // The vault's redemption NAV and the USDai supply, month by month.
    let nav = vault::nav(state);
    let mut value = convert::amount_to_usd(nav.conservative);
    let start_value = value;
    let supply = convert::amount_to_usd(state.ledger.supply_of(Asset::Usdai));
    let units = state.ledger.balance(ProtocolAccount::Reserve, Asset::Tbill);
    let index = state.reserve.tbill.get().at(book.start).expect("the index fits 128 bits");
    let reserve = convert::amount_to_usd(units) * (index as f64 / WAD as f64);
    let mut harvest = reserve - supply;
    let mut supply = supply;
    for month in 0..months {
        value += (1.0 - yield_fee) * harvest + interest_net[month];
        supply += harvest + cash_in[month];
        harvest = supply * g;
    }
    (value / start_value).powf(365.0 / (30.0 * months as f64)) - 1.0
}

#[test]
fn with_volatility_zero_and_no_defaults_the_realised_apy_is_the_closed_form_blended_yield() {
    let mut scenario = common::quiet(common::small_base(40, 4));
    scenario.book.spread_due_days = false;
    scenario.book.junior_share_bps = 0;
    scenario.book.origination_fee_bps = 0;
    scenario.book.exit_fee_bps = 0;
    scenario.protocol.yield_fee_bps = Some(500);
    for silo in &mut scenario.silos {
        silo.junior_share_bps = None;
    }
    scenario.validate().expect("valid");
    let simulation = Simulation::new(scenario).expect("book");
    let outcomes = simulation.run(2, 7, None).expect("run");
    let expected = closed_form_apy(&simulation);
    for outcome in &outcomes {
        assert_eq!(outcome.defaults, 0);
        assert_eq!(outcome.margin_calls, 0);
        let difference_bps = (outcome.apy - expected).abs() * 1e4;
        assert!(
            difference_bps < 1.0,
            "realised APY {:.6}% vs closed form {:.6}%: {difference_bps:.4} bps apart",
            outcome.apy * 100.0,
            expected * 100.0
        );
    }
    // Sanity: the yield sits between the T-bill rate and the senior rates.
    assert!(expected > 0.042 && expected < 0.14, "closed form {expected}");
}
