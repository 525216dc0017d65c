//! The synthetic starting book, built by applying real transactions to a genesis.
//!
//! The book is planned from the scenario's `[book]` and `[[silos]]` with the book seed (so
//! every path and every run seed starts from the same book), then replayed from a genesis
//! `age_months_max + 1` months before the start: classes are registered, curators open silos
//! and post first-loss capital, holders mint and stake, and each loan is originated on its
//! date (receipt issued, insured, appraised, proposed, accepted; the borrower takes the USDai
//! out as USDC) and repaid on time every month until the start, while the oracle posts the
//! T-bill rate, keepers harvest and appraisers re-value the collateral monthly. The result is
//! a state the protocol itself produced, with loans of every age.

use crate::{
    SimError,
    chain::{Actors, Chain, address, kind},
    convert::{amount_to_usd, apr_to_rate, bps, usd_to_amount},
    market::MarketModel,
    rng::{Rng, Stream},
    scenario::{ClassSpec, Scenario},
};
use infrafi_core::{
    Action, Address, Amount, Asset, AssetClassId, Bps, Event, Genesis, LoanId, ParameterChange,
    Rate, ReceiptId, Role, SiloId, State, WAD,
    action::{
        AcceptLoan, AddAssetClass, AttachPolicy, DepositFirstLoss, GrantRole, HarvestBaseYield,
        IssueReceipt, MintUsdai, OpenSilo, PostTbillRate, PostValuation, ProposeLoan, RepayLoan,
        RequestRedeem, SetKyc, SetParameter, SetPresenceLimit, SetSiloSeniorCap, Stake,
    },
    ids::{B256, USDC},
    loans::{LoanStatus, LoanTerms, TrancheTerms},
    receipts::{AssetClassTerms, ReceiptDescription, RecoveryCostModel},
    silos::SiloTerms,
};

/// A scenario class's terms as its operator registers them on the chain.
pub fn class_terms(spec: &ClassSpec) -> AssetClassTerms {
    AssetClassTerms {
        new_price_per_unit: usd_to_amount(spec.new_price_usd),
        annual_depreciation_bps: Bps(spec.annual_depreciation_bps),
        floor_bps: Bps(spec.floor_bps),
        recovery: RecoveryCostModel {
            itad_commission_bps: Bps(spec.recovery.itad_commission_bps),
            legal_cost_per_unit: usd_to_amount(spec.recovery.legal_cost_per_unit_usd),
            logistics_cost_per_unit: usd_to_amount(spec.recovery.logistics_cost_per_unit_usd),
            data_destruction_cost_per_unit: usd_to_amount(
                spec.recovery.data_destruction_cost_per_unit_usd,
            ),
            condition_haircut_bps: Bps(spec.recovery.condition_haircut_bps),
        },
    }
}

/// The start of every synthetic book: 2027-01-01T00:00:00Z.
pub const START_TIMESTAMP: u64 = 1_798_761_600;
/// A day.
pub const DAY: u64 = 86_400;
/// A model month: the default repayment interval.
pub const MONTH: u64 = 30 * DAY;
/// GPU units are bought by the server (8 per HGX board).
const UNITS_PER_SERVER: u32 = 8;

/// A loan of the book, with what the models need to know about its borrower and hardware.
#[derive(Clone, Debug)]
pub struct BookLoan {
    /// The loan.
    pub id: LoanId,
    /// Index of its silo in [`Book::silos`].
    pub silo: usize,
    /// Index of its class in the scenario.
    pub class: usize,
    /// Units of hardware pledged.
    pub units: u32,
    /// Its receipts.
    pub receipts: Vec<ReceiptId>,
    /// Its borrower.
    pub borrower: Address,
    /// When the hardware was new.
    pub hardware_new_at: u64,
    /// The borrower's fleet utilization.
    pub utilization: f64,
}

/// A silo of the book.
#[derive(Clone, Debug)]
pub struct BookSilo {
    /// Its id.
    pub id: SiloId,
    /// Its label.
    pub name: String,
    /// Its curator.
    pub curator: Address,
}

/// A starting book: a valid state and what the simulator knows about its participants.
#[derive(Clone, Debug)]
pub struct Book {
    /// The state just before the first simulated day.
    pub state: State,
    /// The first simulated day.
    pub start: u64,
    /// Role holders.
    pub actors: Actors,
    /// The next unused gateway external id.
    pub next_external_id: u64,
    /// Loans, in id order.
    pub loans: Vec<BookLoan>,
    /// Silos, in scenario order.
    pub silos: Vec<BookSilo>,
    /// sUSDai holder cohorts.
    pub holders: Vec<Address>,
    /// Asset class ids in scenario order.
    pub classes: Vec<AssetClassId>,
}

struct PlannedLoan {
    silo: usize,
    class: usize,
    units: u32,
    originated_at: u64,
    senior: Amount,
    junior: Amount,
    senior_rate: Rate,
    junior_rate: Rate,
}

fn pick_weighted(rng: &mut Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut target = rng.uniform() * total;
    for (i, weight) in weights.iter().enumerate() {
        if target < *weight {
            return i;
        }
        target -= weight;
    }
    weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
}

fn class_id(text: &str) -> AssetClassId {
    AssetClassId::new(text).expect("validated: class ids are valid")
}

fn plan_loans(scenario: &Scenario, rng: &mut Rng) -> Vec<PlannedLoan> {
    let book = &scenario.book;
    let silo_weights: Vec<f64> = scenario.silos.iter().map(|s| s.loan_weight).collect();
    let mut loans = Vec::with_capacity(book.loans as usize);
    for _ in 0..book.loans {
        let silo_index = pick_weighted(rng, &silo_weights);
        let silo = &scenario.silos[silo_index];
        let classes: Vec<usize> =
            silo.classes.iter().filter_map(|id| scenario.class_index(id)).collect();
        let weights: Vec<f64> = classes.iter().map(|&c| scenario.classes[c].book_weight).collect();
        let class = classes[pick_weighted(rng, &weights)];
        let (low, high) = (f64::from(book.units_min).ln(), f64::from(book.units_max).ln());
        let units = rng.uniform_in(low, high).exp().round() as u32;
        let units =
            (units / UNITS_PER_SERVER * UNITS_PER_SERVER).clamp(book.units_min, book.units_max);
        let age = rng.below(u64::from(book.age_months_max) + 1);
        let offset_days = if book.spread_due_days { 1 + rng.below(30) } else { 30 };
        let originated_at = START_TIMESTAMP - age * MONTH - offset_days * DAY;
        let ltv_max = book.ltv_max_bps.min(silo.max_initial_ltv_bps - 1);
        let ltv = rng.uniform_in(bps(book.ltv_min_bps), bps(ltv_max));
        let value = f64::from(units) * scenario.classes[class].new_price_usd;
        let principal = usd_to_amount(value * ltv);
        let junior_share = silo.junior_share_bps.unwrap_or(book.junior_share_bps);
        let junior = principal
            .mul_bps(Bps(junior_share), infrafi_core::Rounding::Down)
            .unwrap_or(Amount::ZERO);
        let senior = Amount(principal.0 - junior.0);
        let senior_apr = silo.senior_apr_bps.unwrap_or(book.senior_apr_bps);
        loans.push(PlannedLoan {
            silo: silo_index,
            class,
            units,
            originated_at,
            senior,
            junior,
            senior_rate: Rate::from_apr_bps(senior_apr),
            junior_rate: Rate::from_apr_bps(book.junior_apr_bps),
        });
    }
    loans.sort_by_key(|loan| loan.originated_at);
    loans
}

/// Builds the scenario's synthetic book.
pub fn build(scenario: &Scenario) -> Result<Book, SimError> {
    let mut rng = Rng::for_path(scenario.book.seed, 0, Stream::Book);
    let planned = plan_loans(scenario, &mut rng);
    let book = &scenario.book;
    let market = MarketModel::new(scenario);
    let genesis_at = START_TIMESTAMP - (u64::from(book.age_months_max) + 1) * MONTH;
    let actors = Actors::standard();
    let params = scenario.protocol.params();

    let mut silo_senior = vec![0.0; scenario.silos.len()];
    let mut silo_junior = vec![0.0; scenario.silos.len()];
    for loan in &planned {
        silo_senior[loan.silo] += amount_to_usd(loan.senior);
        silo_junior[loan.silo] += amount_to_usd(loan.junior);
    }
    let holders: Vec<Address> =
        (0..u64::from(scenario.holders.count)).map(|i| address(kind::HOLDER, i)).collect();
    let curators: Vec<Address> =
        (0..scenario.silos.len() as u64).map(|i| address(kind::CURATOR, i)).collect();
    let min_first_loss = bps(params.min_first_loss_bps.0);
    let first_loss: Vec<Amount> = scenario
        .silos
        .iter()
        .enumerate()
        .map(|(i, silo)| {
            let free = silo_senior[i] * bps(silo.first_loss_bps).max(min_first_loss);
            usd_to_amount(free + silo_junior[i] + 1.0)
        })
        .collect();

    let mut genesis = Genesis::with_admin(actors.admin, genesis_at);
    genesis.params = params;
    genesis.stablecoins = vec![(USDC, WAD)];
    genesis.tbill_rate = apr_to_rate(f64::from(scenario.tbill.initial_apr_bps) / 1e4);
    genesis.roles = vec![
        (Role::Admin, actors.admin),
        (Role::Oracle, actors.oracle),
        (Role::Custodian, actors.custodian),
        (Role::Appraiser, actors.appraiser),
        (Role::Insurer, actors.insurer),
        (Role::LiquidationAgent, actors.liquidation_agent),
        (Role::GatewayAttestor, actors.attestor),
    ];
    genesis.roles.extend(curators.iter().map(|&c| (Role::Curator, c)));
    genesis.stablecoin_balances =
        curators.iter().zip(&first_loss).map(|(&c, &a)| (c, USDC, a)).collect();
    let state = State::from_genesis(&genesis).map_err(|e| SimError::Book(e.to_string()))?;
    let mut chain = Chain::new(state, actors.clone(), 1);
    chain.at(genesis_at)?;

    let classes: Vec<AssetClassId> = scenario.classes.iter().map(|c| class_id(&c.id)).collect();
    for (spec, &id) in scenario.classes.iter().zip(&classes) {
        let terms = class_terms(spec);
        chain.apply(actors.admin, Action::AddAssetClass(AddAssetClass { class: id, terms }))?;
    }
    // Rental-index marks: the chain values receipts by the same rule as a node.
    crate::valuation::set_terms(&mut chain, scenario, &classes)?;
    let mut silos = Vec::new();
    for (i, spec) in scenario.silos.iter().enumerate() {
        let mut eligible: Vec<AssetClassId> = spec.classes.iter().map(|c| class_id(c)).collect();
        eligible.sort();
        let terms = SiloTerms {
            eligible_classes: eligible,
            max_initial_ltv_bps: Bps(spec.max_initial_ltv_bps),
            margin_call_ltv_bps: Bps(spec.margin_call_ltv_bps),
            max_borrower_share_bps: Bps(10_000),
            curator_fee_bps: Bps(spec.curator_fee_bps),
        };
        let events = chain.apply(curators[i], Action::OpenSilo(OpenSilo { terms }))?;
        let id = emitted(events, "open_silo", |e| match e {
            Event::SiloOpened { silo_id, .. } => Some(*silo_id),
            _ => None,
        })?;
        let cap = usd_to_amount(silo_senior[i] * 1.05 + 1.0);
        chain
            .apply(actors.admin, Action::SetSiloSeniorCap(SetSiloSeniorCap { silo_id: id, cap }))?;
        chain.apply(
            curators[i],
            Action::MintUsdai(MintUsdai {
                token: USDC,
                amount: first_loss[i],
                min_out: Amount::ZERO,
            }),
        )?;
        let amount = chain.state.ledger.balance(curators[i], Asset::Usdai);
        chain.apply(
            curators[i],
            Action::DepositFirstLoss(DepositFirstLoss { silo_id: id, amount }),
        )?;
        silos.push(BookSilo { id, name: spec.name.clone(), curator: curators[i] });
    }
    let mut builder = History {
        scenario,
        market: &market,
        chain,
        classes: &classes,
        silos: &silos,
        holders: &holders,
        next_depositor: 0,
        loans: Vec::new(),
    };
    builder.replay(&planned, genesis_at)?;
    let History { mut chain, loans, .. } = builder;

    // Holders already in the queue at the start.
    let share_bps = book.initial_queue_share_bps;
    if share_bps > 0 {
        for &holder in &holders {
            let balance = chain.state.ledger.balance(holder, Asset::Susdai);
            let shares = balance
                .mul_bps(Bps(share_bps), infrafi_core::Rounding::Down)
                .unwrap_or(Amount::ZERO);
            if shares >= chain.state.governance.params.get().min_redeem_shares {
                chain.apply(holder, Action::RequestRedeem(RequestRedeem { shares }))?;
            }
        }
    }
    let next_external_id = chain.next_external_id;
    Ok(Book {
        state: chain.state,
        start: START_TIMESTAMP,
        actors,
        next_external_id,
        loans,
        silos,
        holders,
        classes,
    })
}

struct History<'a> {
    scenario: &'a Scenario,
    market: &'a MarketModel,
    chain: Chain,
    classes: &'a [AssetClassId],
    silos: &'a [BookSilo],
    holders: &'a [Address],
    next_depositor: usize,
    loans: Vec<BookLoan>,
}

impl History<'_> {
    /// Replays the history day by day until the day before the start.
    fn replay(&mut self, planned: &[PlannedLoan], genesis_at: u64) -> Result<(), SimError> {
        let mut next = 0;
        let mut day = genesis_at;
        while day < START_TIMESTAMP {
            self.chain.at(day)?;
            if (day - genesis_at).is_multiple_of(MONTH) {
                self.month_upkeep()?;
            }
            while next < planned.len() && planned[next].originated_at == day {
                self.originate(&planned[next], next)?;
                next += 1;
            }
            self.repay_due(day)?;
            day += DAY;
        }
        assert_eq!(next, planned.len(), "every planned loan was originated");
        Ok(())
    }

    fn month_upkeep(&mut self) -> Result<(), SimError> {
        let actors = self.chain.actors.clone();
        let rate = apr_to_rate(f64::from(self.scenario.tbill.initial_apr_bps) / 1e4);
        self.chain.apply(actors.oracle, Action::PostTbillRate(PostTbillRate { rate }))?;
        let _ = self.chain.try_apply(actors.keeper, Action::HarvestBaseYield(HarvestBaseYield {}));
        let now = self.chain.now();
        let state = self.market.initial_state();
        // The rents of the book's history are the start's (the market moves from the start).
        for (c, &class) in self.classes.iter().enumerate() {
            let rent =
                self.market.classes[c].rental_usd_per_hour * self.market.rental_index(&state, c);
            crate::valuation::post_index(&mut self.chain, class, rent)?;
        }
        for loan in &self.loans {
            let age = (now - loan.hardware_new_at) as f64 / (365.0 * DAY as f64);
            let unit = self.market.resale_usd_per_unit(&state, loan.class, age);
            let value = usd_to_amount(unit * f64::from(loan.units)).max(Amount(1));
            let active = self
                .chain
                .state
                .loans
                .loans
                .get(&loan.id)
                .is_some_and(|l| l.status == LoanStatus::Active);
            if active {
                for &receipt_id in &loan.receipts {
                    self.chain.apply(
                        actors.appraiser,
                        Action::PostValuation(PostValuation { receipt_id, value }),
                    )?;
                }
            }
        }
        Ok(())
    }

    fn originate(&mut self, plan: &PlannedLoan, index: usize) -> Result<(), SimError> {
        let actors = self.chain.actors.clone();
        let scenario = self.scenario;
        let book = &scenario.book;
        let class_spec = &scenario.classes[plan.class];
        let borrower = address(kind::BORROWER, index as u64);
        let now = self.chain.now();
        let silo = &self.silos[plan.silo];
        let description = ReceiptDescription {
            quantity: plan.units,
            serials_hash: B256::from(tagged(1, index as u64)),
            facility: format!("sim-dc-{}", silo.name),
            jurisdiction: "US-DE".into(),
            bailment_hash: B256::from(tagged(2, index as u64)),
        };
        let events = self.chain.apply(
            actors.custodian,
            Action::IssueReceipt(IssueReceipt {
                class: self.classes[plan.class],
                owner: borrower,
                description,
            }),
        )?;
        let receipt_id = emitted(events, "issue_receipt", |e| match e {
            Event::ReceiptIssued { receipt_id, .. } => Some(*receipt_id),
            _ => None,
        })?;
        let replacement = usd_to_amount(class_spec.new_price_usd * f64::from(plan.units));
        let horizon_end = START_TIMESTAMP + u64::from(scenario.horizon_months) * MONTH;
        self.chain.apply(
            actors.insurer,
            Action::AttachPolicy(AttachPolicy {
                receipt_id,
                policy_id: B256::from(tagged(3, index as u64)),
                coverage: replacement,
                expires_at: horizon_end + 365 * DAY,
            }),
        )?;
        self.chain.apply(
            actors.appraiser,
            Action::PostValuation(PostValuation { receipt_id, value: replacement }),
        )?;
        // Lent against the chain's own value for LTV (with income terms it may be below the
        // replacement cost): a plan above the silo's initial limit is scaled down to fit.
        let (senior, junior) = self.fit_to_value(plan, receipt_id)?;
        self.top_up_vault(senior)?;
        let terms = LoanTerms {
            borrower,
            receipts: vec![receipt_id],
            senior: TrancheTerms { amount: senior, rate: plan.senior_rate },
            junior: TrancheTerms { amount: junior, rate: plan.junior_rate },
            model: book.model,
            periods: Some(book.term_months),
            interval_secs: Some(MONTH),
            grace_period_secs: u64::from(book.grace_days) * DAY,
            grace_rate: Rate::from_apr_bps(book.grace_apr_bps),
            origination_fee_bps: Bps(book.origination_fee_bps),
            exit_fee_bps: Bps(book.exit_fee_bps),
            expires_at: now + DAY,
        };
        let events = self
            .chain
            .apply(silo.curator, Action::ProposeLoan(ProposeLoan { silo_id: silo.id, terms }))?;
        let loan_id = emitted(events, "propose_loan", |e| match e {
            Event::LoanProposed { loan_id, .. } => Some(*loan_id),
            _ => None,
        })?;
        self.chain.apply(borrower, Action::AcceptLoan(AcceptLoan { loan_id }))?;
        // The borrower paid for the hardware: its USDai leaves as USDC.
        self.chain.redeem_all_usdai(borrower)?;
        self.loans.push(BookLoan {
            id: loan_id,
            silo: plan.silo,
            class: plan.class,
            units: plan.units,
            receipts: vec![receipt_id],
            borrower,
            hardware_new_at: now,
            utilization: utilization_of(scenario, loan_id),
        });
        Ok(())
    }

    /// The plan's tranches, scaled down (pro rata, rounded down) when their sum is above the
    /// silo's initial LTV limit of the receipt's value for LTV on the chain.
    fn fit_to_value(
        &self,
        plan: &PlannedLoan,
        receipt_id: ReceiptId,
    ) -> Result<(Amount, Amount), SimError> {
        let state = &self.chain.state;
        let Some(receipt) = state.receipts.receipts.get(&receipt_id) else {
            return Err(SimError::Book(format!("receipt {receipt_id} was not issued")));
        };
        let value = infrafi_core::receipts::value_for_ltv(state, receipt, self.chain.now());
        let silo_id = self.silos[plan.silo].id;
        let limit_bps = state
            .silos
            .silos
            .get(&silo_id)
            .map_or(0, |silo| silo.terms.max_initial_ltv_bps.0.saturating_sub(1));
        let room = value.mul_bps(Bps(limit_bps), infrafi_core::Rounding::Down).unwrap_or(value);
        let principal = plan.senior.checked_add(plan.junior).map_err(|_| SimError::Overflow)?;
        if principal <= room {
            return Ok((plan.senior, plan.junior));
        }
        let scale = |tranche: Amount| {
            infrafi_core::math::mul_div(
                tranche.0,
                room.0,
                principal.0,
                infrafi_core::Rounding::Down,
            )
            .map(Amount)
            .map_err(|_| SimError::Overflow)
        };
        Ok((scale(plan.senior)?, scale(plan.junior)?))
    }

    /// Holders deposit (in turn) until lending `senior` keeps the vault's deployed share at
    /// the book's target: the vault grows with the book.
    fn top_up_vault(&mut self, senior: Amount) -> Result<(), SimError> {
        let nav = infrafi_core::vault::nav(&self.chain.state);
        let deployed = amount_to_usd(nav.senior_principal) + amount_to_usd(senior);
        let wanted = deployed / bps(self.scenario.book.deployed_share_bps);
        let missing = wanted - amount_to_usd(nav.conservative);
        if missing <= 0.0 {
            return Ok(());
        }
        let holder = self.holders[self.next_depositor % self.holders.len()];
        self.next_depositor += 1;
        let assets = usd_to_amount(missing + 1.0);
        self.chain.fund_usdai(holder, assets)?;
        self.chain.apply(holder, Action::Stake(Stake { assets, min_shares: Amount::ZERO }))?;
        Ok(())
    }

    /// Every loan due today pays on time from the lockbox (the history is performing).
    fn repay_due(&mut self, day: u64) -> Result<(), SimError> {
        let mut due = Vec::new();
        let mut total = Amount::ZERO;
        for loan in &self.loans {
            let Some(state_loan) = self.chain.state.loans.loans.get(&loan.id) else { continue };
            if state_loan.status == LoanStatus::Active && state_loan.next_due_at == day {
                let amount = infrafi_core::loans::payment_due(state_loan, day)
                    .and_then(|d| d.total())
                    .map_err(|_| SimError::Book("payment overflow".into()))?;
                total = Amount(total.0 + amount.0);
                due.push((loan.id, amount));
            }
        }
        if due.is_empty() {
            return Ok(());
        }
        let lockbox = self.chain.actors.lockbox;
        self.chain.fund_usdai(lockbox, total)?;
        for (loan_id, max_amount) in due {
            self.chain.apply(lockbox, Action::RepayLoan(RepayLoan { loan_id, max_amount }))?;
        }
        Ok(())
    }
}

/// A borrower's fleet utilization: drawn from the scenario's range with the book seed and the
/// loan id alone, so a book rebuilt from a state gives every borrower the same utilization.
pub fn utilization_of(scenario: &Scenario, loan: LoanId) -> f64 {
    let mut rng =
        Rng::new(crate::rng::derive_seed(&[scenario.book.seed, Stream::Book as u64, loan.0]));
    rng.uniform_in(
        bps(scenario.borrowers.utilization_min_bps),
        bps(scenario.borrowers.utilization_max_bps),
    )
}

/// Why a state cannot be simulated.
fn unusable(reason: String) -> SimError {
    SimError::Book(format!("the state cannot be simulated: {reason}"))
}

impl Book {
    /// The book of an arbitrary state (a node's snapshot, or a decoded synthetic book), with
    /// the scenario supplying the market and behaviour models. The simulation starts one day
    /// after the state's time. Loans are its active and defaulted loans; a loan's class and
    /// units come from its first receipt (which must be of a class the scenario models), its
    /// hardware is taken as new at origination; holders are the users holding sUSDai or a
    /// redemption request; role holders are read from the state, and a role nobody holds is
    /// granted by the first admin to the simulator's standard address (a real transaction).
    pub fn from_state(state: State, scenario: &Scenario) -> Result<Book, SimError> {
        let standard = Actors::standard();
        let first = |role: Role| state.governance.holders(role).next();
        let admin = first(Role::Admin).ok_or_else(|| unusable("no admin".into()))?;
        let mut chain = Chain::new(state, standard.clone(), 0);
        let mut actor = |role: Role, fallback: Address| -> Result<Address, SimError> {
            if let Some(holder) = chain.state.governance.holders(role).next() {
                return Ok(holder);
            }
            chain.apply(admin, Action::GrantRole(GrantRole { role, account: fallback }))?;
            Ok(fallback)
        };
        let actors = Actors {
            admin,
            oracle: actor(Role::Oracle, standard.oracle)?,
            custodian: actor(Role::Custodian, standard.custodian)?,
            appraiser: actor(Role::Appraiser, standard.appraiser)?,
            insurer: actor(Role::Insurer, standard.insurer)?,
            liquidation_agent: actor(Role::LiquidationAgent, standard.liquidation_agent)?,
            attestor: actor(Role::GatewayAttestor, standard.attestor)?,
            lockbox: standard.lockbox,
            keeper: standard.keeper,
        };
        let state = chain.state;
        let classes: Vec<AssetClassId> = scenario.classes.iter().map(|c| class_id(&c.id)).collect();
        let silos: Vec<BookSilo> = state
            .silos
            .silos
            .iter()
            .map(|(id, silo)| BookSilo {
                id: *id,
                name: format!("silo-{}", id.0),
                curator: silo.curator,
            })
            .collect();
        let mut loans = Vec::new();
        for (id, loan) in state.loans.loans.iter() {
            if !matches!(loan.status, LoanStatus::Active | LoanStatus::Defaulted) {
                continue;
            }
            let receipt = loan
                .receipts
                .first()
                .and_then(|r| state.receipts.receipts.get(r))
                .ok_or_else(|| unusable(format!("loan {} has no receipt", id.0)))?;
            let class = classes.iter().position(|c| *c == receipt.class).ok_or_else(|| {
                unusable(format!("the scenario does not model class `{}`", receipt.class))
            })?;
            let units = loan
                .receipts
                .iter()
                .filter_map(|r| state.receipts.receipts.get(r))
                .map(|r| r.description.quantity)
                .sum();
            loans.push(BookLoan {
                id: *id,
                silo: silos.iter().position(|s| s.id == loan.silo).unwrap_or(0),
                class,
                units,
                receipts: loan.receipts.clone(),
                borrower: loan.borrower,
                hardware_new_at: loan.originated_at,
                utilization: utilization_of(scenario, *id),
            });
        }
        let mut holders: Vec<Address> = state
            .ledger
            .holdings
            .iter()
            .filter(|(_, holding)| !holding.susdai.is_zero())
            .map(|(address, _)| *address)
            .chain(state.queue.requests.iter().map(|(_, request)| request.owner))
            .collect();
        holders.sort();
        holders.dedup();
        if holders.is_empty() {
            return Err(unusable("nobody holds sUSDai".into()));
        }
        // A state that requires KYC to mint (a devnet's does): everyone the simulator mints
        // for is verified, by a KYC registrar of the state (or the simulator's standard
        // address, granted the role by admin), with real transactions.
        let state = if state.governance.params.get().kyc_required {
            let mut chain = Chain::new(state, standard.clone(), 0);
            let holder = chain.state.governance.holders(Role::KycRegistrar).next();
            let registrar = match holder {
                Some(holder) => holder,
                None => {
                    let account = standard.admin;
                    chain.apply(
                        admin,
                        Action::GrantRole(GrantRole { role: Role::KycRegistrar, account }),
                    )?;
                    account
                }
            };
            let mut accounts: Vec<Address> = holders
                .iter()
                .copied()
                .chain(loans.iter().map(|loan| loan.borrower))
                .chain(silos.iter().map(|silo| silo.curator))
                .chain([
                    actors.admin,
                    actors.oracle,
                    actors.custodian,
                    actors.appraiser,
                    actors.insurer,
                    actors.liquidation_agent,
                    actors.attestor,
                    actors.lockbox,
                    actors.keeper,
                ])
                .collect();
            accounts.sort();
            accounts.dedup();
            for account in accounts {
                if !chain.state.ledger.kyc_verified.contains_key(&account) {
                    chain.apply(registrar, Action::SetKyc(SetKyc { account, verified: true }))?;
                }
            }
            chain.state
        } else {
            state
        };
        // A state that issues USDai only against the reserve custodian's attestations (a
        // devnet's does): the simulator models credit with an honest custodian, whose
        // attestations always cover what the gateway's deposits buy, so the rule never binds;
        // the admin turns it off with a real transaction (loosening takes effect at once)
        // rather than the simulator inventing reserve statements.
        let state = if state.governance.params.get().reserve_attestation_required {
            let mut chain = Chain::new(state, standard.clone(), 0);
            let change = ParameterChange::ReserveAttestationRequired(false);
            chain.apply(admin, Action::SetParameter(SetParameter { change }))?;
            chain.state
        } else {
            state
        };
        // Monitored asset classes (issue 16, hardware presence): the simulator models the
        // hardware as present (its losses come from defaults and resale, not missing racks), so
        // the admin stops monitoring each class with a real transaction (loosening is
        // immediate) rather than the simulator inventing a monitor's attestations.
        let monitored: Vec<_> = state
            .receipts
            .classes
            .iter()
            .filter(|(_, class)| {
                class.presence.max_age_secs != 0 || class.presence.pending.is_some()
            })
            .map(|(id, _)| *id)
            .collect();
        let state = if monitored.is_empty() {
            state
        } else {
            let mut chain = Chain::new(state, standard.clone(), 0);
            for class in monitored {
                let off = SetPresenceLimit { class, max_age_secs: 0 };
                chain.apply(admin, Action::SetPresenceLimit(off))?;
            }
            chain.state
        };
        // Gateway ids the simulator mints carry its tag; continue after the last one used.
        let next_external_id = state
            .reserve
            .credited_external_ids
            .iter()
            .filter(|(id, _)| id.0[0] == 0x51 && id.0[1..24].iter().all(|b| *b == 0))
            .map(|(id, _)| u64::from_be_bytes(id.0[24..].try_into().unwrap_or([0; 8])) + 1)
            .max()
            .unwrap_or(1);
        Ok(Book {
            start: state.now() + DAY,
            state,
            actors,
            next_external_id,
            loans,
            silos,
            holders,
            classes,
        })
    }
}

/// 32 bytes tagged with a kind and an index (serial and document hashes of the book).
fn tagged(tag: u8, index: u64) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[0] = 0x51;
    bytes[1] = tag;
    bytes[24..].copy_from_slice(&index.to_be_bytes());
    bytes
}

/// The id an action's event carries (`id` picks it out), or a book error naming the action.
fn emitted<T>(
    events: &[Event],
    action: &str,
    id: impl FnMut(&Event) -> Option<T>,
) -> Result<T, SimError> {
    events.iter().find_map(id).ok_or_else(|| SimError::Book(format!("{action} emitted no id")))
}
