//! Resolving a [`Step`] against the current state into a transaction: amounts from balances,
//! ids from what exists (usually a fitting one, sometimes any, now and then an unknown one),
//! loan terms from the receipt's value and the vault's room. Deterministic: the same step on
//! the same state gives the same transaction.

use super::pick::*;
use super::step::*;
use super::*;

impl Step {
    /// The sender's address.
    pub fn sender(&self) -> Address {
        actor(self.sender)
    }

    /// The transaction this step sends in `state`.
    pub fn transaction(&self, state: &State) -> Transaction {
        if let Some(tx) = self.credit_transaction(state) {
            return tx;
        }
        let sender = self.sender();
        let balance = |asset: Asset| state.ledger.balance(sender, asset);
        let action = match self.op {
            Op::Transfer { asset, to, amount } => {
                let asset = match asset % 5 {
                    0 => Asset::Usdai,
                    1 => Asset::Susdai,
                    2 => Asset::Stablecoin(USDC),
                    3 => Asset::Tbill,
                    _ => Asset::Stablecoin(DAI),
                };
                Action::Transfer(Transfer {
                    asset,
                    to: actor(to),
                    amount: amount.resolve(balance(asset)),
                })
            }
            Op::GrantRole { role: r, account } => {
                Action::GrantRole(GrantRole { role: role(r), account: actor(account) })
            }
            Op::RevokeRole { role: r, account } => {
                // A quarter of the time a role the account holds (so revocations happen).
                let account = actor(account);
                let held: Vec<Role> = Role::ALL
                    .iter()
                    .copied()
                    .filter(|&role| state.governance.has_role(role, account))
                    .collect();
                let role = match chosen(&held, r / 4) {
                    Some(role) if r % 4 == 0 => role,
                    _ => role(r),
                };
                Action::RevokeRole(RevokeRole { role, account })
            }
            Op::SetParameter { which, value } => {
                Action::SetParameter(SetParameter { change: parameter_change(which, value) })
            }
            Op::AddStablecoin { token: t } => {
                Action::AddStablecoin(AddStablecoin { token: token(t) })
            }
            Op::SetPause { scope, paused } => {
                let scope = match scope % 3 {
                    0 => PauseScope::Minting,
                    1 => PauseScope::Staking,
                    _ => PauseScope::Borrowing,
                };
                Action::SetPause(SetPause { scope, paused })
            }
            // A frozen borrower cannot pay, and the waterfall holds its liquidation
            // surplus until it is unfrozen: half of the freezes hit a borrower, one with a
            // loan in default if there is one.
            Op::Freeze { account } if account % 2 == 0 => {
                let defaulted: Vec<Address> = state
                    .loans
                    .loans
                    .iter()
                    .filter(|(_, l)| l.status == LoanStatus::Defaulted)
                    .map(|(_, l)| l.borrower)
                    .collect();
                let borrower = chosen(&defaulted, account / 4)
                    .unwrap_or(BORROWERS[usize::from(account / 4) % 2]);
                Action::Freeze(Freeze { account: borrower })
            }
            Op::Freeze { account } => Action::Freeze(Freeze { account: participant(account) }),
            Op::Unfreeze { account } => {
                // Usually a frozen account, but a frozen borrower mostly once a liquidation
                // surplus is held for it: until then it stays frozen, cannot pay, and its
                // loans go to liquidation.
                let holding: Vec<Address> = state
                    .loans
                    .loans
                    .iter()
                    .filter(|(_, l)| !l.surplus_held.is_zero())
                    .map(|(_, l)| l.borrower)
                    .collect();
                let frozen = |who: &Address| state.ledger.is_frozen(*who);
                let holders: Vec<Address> = holding.iter().copied().filter(frozen).collect();
                let frozen: Vec<Address> = if holders.is_empty() {
                    PARTICIPANTS
                        .iter()
                        .copied()
                        .filter(|who| frozen(who) && !BORROWERS.contains(who))
                        .collect()
                } else {
                    holders
                };
                let account = match chosen(&frozen, account) {
                    Some(who) if account % 4 != 0 => who,
                    _ => participant(account),
                };
                Action::Unfreeze(Unfreeze { account })
            }
            Op::SetKyc { account, verified } => {
                Action::SetKyc(SetKyc { account: actor(account), verified })
            }
            Op::PostPrice { token: t, price_bps } => Action::PostPrice(PostPrice {
                token: token(t),
                price_wad: WAD / 10_000 * u128::from(price_bps),
            }),
            Op::PostTbillRate { apr_bps } => Action::PostTbillRate(PostTbillRate {
                rate: Rate::from_apr_bps(u32::from(apr_bps)),
            }),
            Op::GatewayCredit { account, token: t, amount, external_id } => {
                Action::GatewayCredit(GatewayCredit {
                    account: actor(account),
                    token: token(t),
                    amount: amount.resolve(whole(100_000)),
                    external_id: B256::repeat_byte(external_id % 32),
                })
            }
            Op::GatewayWithdraw { token: t, amount, destination_is_valid } => {
                Action::GatewayWithdraw(GatewayWithdraw {
                    token: token(t),
                    amount: amount.resolve(balance(Asset::Stablecoin(token(t)))),
                    destination: if destination_is_valid { "0xdest".into() } else { "".into() },
                })
            }
            Op::GatewayConfirm { payout, external_id } => Action::GatewayConfirm(GatewayConfirm {
                payout_id: payout_id(state, payout),
                external_id: B256::repeat_byte(external_id % 32),
            }),
            Op::GatewayReject { payout, reason_is_valid } => Action::GatewayReject(GatewayReject {
                payout_id: payout_id(state, payout),
                reason: if reason_is_valid { "refused".into() } else { "\n".into() },
            }),
            Op::MintUsdai { token: t, amount, min_out } => {
                let amount = amount.resolve(balance(Asset::Stablecoin(token(t))));
                Action::MintUsdai(MintUsdai {
                    token: token(t),
                    amount,
                    min_out: min_out.minimum(amount),
                })
            }
            Op::RedeemUsdai { token: t, amount, min_out } => {
                let amount = amount.resolve(balance(Asset::Usdai));
                Action::RedeemUsdai(RedeemUsdai {
                    token: token(t),
                    amount,
                    min_out: min_out.minimum(amount),
                })
            }
            Op::HarvestBaseYield => Action::HarvestBaseYield(HarvestBaseYield {}),
            Op::QueueDeposit { token: t, amount } => Action::QueueDeposit(QueueDeposit {
                token: token(t),
                amount: amount.resolve(balance(Asset::Stablecoin(token(t)))),
            }),
            Op::CancelQueuedDeposit { deposit } => {
                Action::CancelQueuedDeposit(CancelQueuedDeposit {
                    deposit_id: queued_deposit_id(state, sender, deposit),
                })
            }
            Op::FillQueuedDeposits { max_deposits } => {
                Action::FillQueuedDeposits(FillQueuedDeposits { max_deposits })
            }
            Op::PostReserveAttestation { value_bps, age_secs, document_is_valid } => {
                // A reserve beyond 128 bits (never in a workload) would attest nothing.
                let reserve_value = infrafi_core::reserve::backing(state)
                    .map_or(Amount::ZERO, |backing| backing.reserve_value);
                let market_value = bps_of(reserve_value, value_bps);
                let as_of = match age_secs {
                    Some(age) => state.now().saturating_sub(u64::from(age)),
                    None => state.now() + 1,
                };
                let document_hash =
                    if document_is_valid { B256::repeat_byte(0x5e) } else { B256::ZERO };
                Action::PostReserveAttestation(PostReserveAttestation {
                    par_amount: bps_of(market_value, 10_050),
                    market_value,
                    as_of,
                    document_hash,
                })
            }
            Op::Stake { assets, min_shares } => {
                let assets = assets.resolve(balance(Asset::Usdai));
                Action::Stake(Stake { assets, min_shares: min_shares.minimum(assets) })
            }
            Op::MintShares { shares, max_assets } => {
                let shares = shares.resolve(balance(Asset::Usdai));
                Action::MintShares(MintShares { shares, max_assets: max_assets.maximum(shares) })
            }
            Op::DonateToVault { amount } => Action::DonateToVault(DonateToVault {
                amount: amount.resolve(balance(Asset::Usdai)),
            }),
            Op::RequestRedeem { shares } => Action::RequestRedeem(RequestRedeem {
                shares: shares.resolve(balance(Asset::Susdai)),
            }),
            Op::CancelRedeem { request } => Action::CancelRedeem(CancelRedeem {
                request_id: request_id(state, sender, request),
            }),
            Op::ServiceQueue { max_requests } => {
                Action::ServiceQueue(ServiceQueue { max_requests })
            }
            Op::Claim { request } => {
                Action::Claim(Claim { request_id: request_id(state, sender, request) })
            }
            _ => unreachable!("credit ops are resolved by `credit_transaction`"),
        };
        Transaction { sender, action }
    }

    /// The party a credit action calls for, or another participant now and then.
    pub(super) fn party(&self, proper: Address) -> Address {
        if self.sender % 8 == 7 { participant(self.sender / 8) } else { proper }
    }

    /// The transaction of a credit op in `state`; `None` for the other ops.
    pub(super) fn credit_transaction(&self, state: &State) -> Option<Transaction> {
        let now = state.now();
        let (proper, action) = match self.op {
            Op::AddAssetClass { class, valid } => {
                // The GPU class exists from the set-up; the two others can be added once.
                let mut terms = gpu_class_terms();
                if !valid {
                    terms.new_price_per_unit = Amount::ZERO;
                }
                let class = CLASSES[usize::from(class) % 3];
                (OPS, Action::AddAssetClass(AddAssetClass { class, terms }))
            }
            Op::ApplyGenerationStepDown { class, step_down_bps } => {
                let class = CLASSES[usize::from(class) % CLASSES.len()];
                let step_down_bps = Bps(u32::from(step_down_bps));
                (
                    OPS,
                    Action::ApplyGenerationStepDown(ApplyGenerationStepDown {
                        class,
                        step_down_bps,
                    }),
                )
            }
            Op::IssueReceipt { class, owner, units, text_is_valid } => {
                let mut description = gpu_receipt(units);
                if !text_is_valid {
                    description.facility = String::new();
                }
                let class = CLASSES[usize::from(class) % CLASSES.len()];
                let owner = BORROWERS[usize::from(owner) % BORROWERS.len()];
                (CUSTODIAN, Action::IssueReceipt(IssueReceipt { class, owner, description }))
            }
            Op::AmendReceipt { receipt, units, text_is_valid } => {
                let receipt_id = receipt_id(state, receipt, |r| !is_closed(r));
                let found = state.receipts.receipts.get(&receipt_id);
                let quantity = found.map_or(1, |r| r.description.quantity);
                let mut description = gpu_receipt(units.unwrap_or(quantity));
                description.jurisdiction = "US-TX".into();
                if !text_is_valid {
                    description.jurisdiction = "\n".into();
                }
                let custodian = found.map_or(CUSTODIAN, |r| r.custodian);
                (custodian, Action::AmendReceipt(AmendReceipt { receipt_id, description }))
            }
            Op::ReleaseReceipt { receipt } => {
                let receipt_id = receipt_id(state, receipt, |r| r.status == ReceiptStatus::Issued);
                (
                    custodian_of(state, receipt_id),
                    Action::ReleaseReceipt(ReleaseReceipt { receipt_id }),
                )
            }
            Op::TransferReceipt { receipt, to } => {
                let receipt_id =
                    receipt_id(state, receipt, |r| r.status.is_free() && !r.redemption_requested);
                let to = BORROWERS[usize::from(to) % BORROWERS.len()];
                (
                    owner_of(state, receipt_id),
                    Action::TransferReceipt(TransferReceipt { receipt_id, to }),
                )
            }
            Op::RequestReceiptRedemption { receipt } => {
                let receipt_id = receipt_id(state, receipt, |r| {
                    r.status == ReceiptStatus::Released && !r.redemption_requested
                });
                let owner = owner_of(state, receipt_id);
                (owner, Action::RequestReceiptRedemption(RequestReceiptRedemption { receipt_id }))
            }
            Op::RedeemReceipt { receipt } => {
                let receipt_id = receipt_id(state, receipt, |r| {
                    r.status == ReceiptStatus::Released && r.redemption_requested
                });
                (
                    custodian_of(state, receipt_id),
                    Action::RedeemReceipt(RedeemReceipt { receipt_id }),
                )
            }
            Op::AttachPolicy { receipt, coverage_bps, term } => {
                let receipt_id = receipt_id(state, receipt, |r| {
                    !is_closed(r) && r.policy.as_ref().is_none_or(|p| p.expires_at <= now)
                });
                let coverage = bps_of(reference_value(state, receipt_id), coverage_bps);
                let action = Action::AttachPolicy(AttachPolicy {
                    receipt_id,
                    policy_id: B256::repeat_byte(0x90),
                    coverage,
                    expires_at: now + policy_term(term),
                });
                (INSURER, action)
            }
            Op::RenewPolicy { receipt, coverage_bps, term } => {
                let receipt_id =
                    receipt_id(state, receipt, |r| !is_closed(r) && r.policy.is_some());
                let policy =
                    state.receipts.receipts.get(&receipt_id).and_then(|r| r.policy.clone());
                let insurer = policy.as_ref().map_or(INSURER, |p| p.insurer);
                let expiry = policy.as_ref().map_or(now, |p| p.expires_at.max(now));
                let coverage = bps_of(reference_value(state, receipt_id), coverage_bps);
                let expires_at = expiry + policy_term(term);
                (insurer, Action::RenewPolicy(RenewPolicy { receipt_id, coverage, expires_at }))
            }
            Op::PostValuation { receipt, value_bps } => {
                // A fall in value usually hits collateral; other appraisals usually value
                // a receipt whose valuation is missing or more than 60 days old.
                let receipt_id = if value_bps < 8_500 {
                    receipt_id(state, receipt, |r| r.status == ReceiptStatus::Pledged)
                } else {
                    receipt_id(state, receipt, |r| {
                        !is_closed(r) && r.valuation.as_ref().is_none_or(|v| v.at + 60 * DAY < now)
                    })
                };
                let value = bps_of(reference_value(state, receipt_id), value_bps);
                (APPRAISER, Action::PostValuation(PostValuation { receipt_id, value }))
            }
            Op::SetIncomeTerms { class, valid } => {
                let class = CLASSES[usize::from(class) % CLASSES.len()];
                let mut terms = income_terms(now);
                if !valid {
                    terms.utilisation_bps = Bps(10_001);
                }
                (OPS, Action::SetIncomeTerms(SetIncomeTerms { class, terms }))
            }
            Op::PostRentalIndex { class, move_bps } => {
                let class = CLASSES[usize::from(class) % CLASSES.len()];
                // Moves from the current index ($2.50 an hour when there is none yet).
                let current = state
                    .receipts
                    .rental_indices
                    .get(&class)
                    .map_or(RENT_PER_UNIT_HOUR, |index| index.rent_per_unit_hour);
                let rent_per_unit_hour = bps_of(current, move_bps);
                (FEEDS, Action::PostRentalIndex(PostRentalIndex { class, rent_per_unit_hour }))
            }
            Op::OpenSilo { classes, narrow, curator_fee, valid } => {
                let mut eligible_classes = match classes % 3 {
                    0 => vec![GPU],
                    1 => vec![GPU, CLASSES[2]],
                    _ => vec![CLASSES[1]],
                };
                eligible_classes.sort();
                let mut terms = SiloTerms { eligible_classes, ..SiloTerms::default() };
                if narrow {
                    terms.max_borrower_share_bps = Bps(2_000);
                }
                if curator_fee {
                    terms.curator_fee_bps = Bps(1_000);
                }
                if !valid {
                    terms.max_initial_ltv_bps = Bps(9_000);
                }
                (CURATOR, Action::OpenSilo(OpenSilo { terms }))
            }
            Op::DepositFirstLoss { silo, amount } => {
                let silo_id = silo_id(state, silo);
                let curator = curator_of(state, silo_id);
                let held = state.ledger.balance(curator, Asset::Usdai);
                let amount = match amount {
                    Size::AllPlusOne => Amount(held.0.saturating_add(1)),
                    size => size.resolve(whole(50_000)),
                };
                (curator, Action::DepositFirstLoss(DepositFirstLoss { silo_id, amount }))
            }
            Op::WithdrawFirstLoss { silo, amount } => {
                let silo_id = silo_id(state, silo);
                // Against a quarter of the pool (all of it and more with `AllPlusOne`): a
                // curator that empties its pool stops its silo from lending.
                let pool = state.silos.silos.get(&silo_id).map_or(Amount::ZERO, |s| s.pool_balance);
                let amount = match amount {
                    Size::AllPlusOne => Amount(pool.0.saturating_add(1)),
                    size => size.resolve(Amount(pool.0 / 4)),
                };
                (
                    curator_of(state, silo_id),
                    Action::WithdrawFirstLoss(WithdrawFirstLoss { silo_id, amount }),
                )
            }
            Op::SetSiloSeniorCap { silo, cap_bps } => {
                let silo_id = silo_id(state, silo);
                let cap = bps_of(whole(10_000_000), cap_bps);
                (OPS, Action::SetSiloSeniorCap(SetSiloSeniorCap { silo_id, cap }))
            }
            Op::SetSiloFrozen { silo, change } => {
                // A frozen silo is usually unfrozen; an active one is frozen only now and
                // then (otherwise the request changes nothing and is rejected), so silos
                // spend most of their time lending.
                let silo_id = silo_id(state, silo);
                let frozen = change % 5 == 0;
                (OPS, Action::SetSiloFrozen(SetSiloFrozen { silo_id, frozen }))
            }
            Op::AssignSuccessorCurator { silo, successor } => {
                let curator = [CURATOR, RIVAL, BORROWER][usize::from(successor) % 3];
                // Usually a frozen silo, if there is one.
                let frozen: Vec<SiloId> =
                    state.silos.silos.iter().filter(|(_, s)| s.frozen).map(|(id, _)| *id).collect();
                let silo_id = match chosen(&frozen, silo / 4) {
                    Some(id) if silo % 4 != 0 => id,
                    _ => silo_id(state, silo),
                };
                (OPS, Action::AssignSuccessorCurator(AssignSuccessorCurator { silo_id, curator }))
            }
            Op::ProposeLoan { silo, borrower, receipt, terms } => {
                let silo_id = silo_id(state, silo);
                // Usually a loan to the owner of a receipt it could pledge and that no live
                // proposal names yet; now and then to the other borrower.
                let proposed: Vec<ReceiptId> = state
                    .loans
                    .loans
                    .iter()
                    .filter(|(_, l)| l.status == LoanStatus::Proposed && l.expires_at >= now)
                    .flat_map(|(_, l)| l.receipts.clone())
                    .collect();
                let receipt_id = receipt_id(state, receipt, |r| {
                    pledgeable(state, r) && !proposed.contains(&r.id)
                });
                let owner = owner_of(state, receipt_id);
                let borrower = match borrower % 8 {
                    7 => BORROWERS[usize::from(owner == BORROWERS[0])],
                    _ => owner,
                };
                let terms = loan_terms(state, borrower, receipt_id, terms);
                (curator_of(state, silo_id), Action::ProposeLoan(ProposeLoan { silo_id, terms }))
            }
            Op::CancelLoanProposal { loan, by_curator } => {
                let loan_id = loan_id(state, loan, |l| l.status == LoanStatus::Proposed);
                let sender = if by_curator {
                    curator_of(state, silo_of(state, loan_id))
                } else {
                    borrower_of(state, loan_id)
                };
                (sender, Action::CancelLoanProposal(CancelLoanProposal { loan_id }))
            }
            Op::AcceptLoan { loan } => {
                let loan_id = loan_id(state, loan, |l| {
                    l.status == LoanStatus::Proposed
                        && l.expires_at >= now
                        && l.receipts.iter().all(|id| {
                            state
                                .receipts
                                .receipts
                                .get(id)
                                .is_some_and(|r| r.owner == l.borrower && pledgeable(state, r))
                        })
                });
                (borrower_of(state, loan_id), Action::AcceptLoan(AcceptLoan { loan_id }))
            }
            Op::RepayLoan { loan, max_amount } => {
                // Usually a payment that is due within a week or late but in grace.
                let loan_id = loan_id(state, loan, |l| {
                    l.status == LoanStatus::Active
                        && !l.is_default_due(now)
                        && l.next_due_at <= now + 7 * DAY
                });
                let due = state
                    .loans
                    .loans
                    .get(&loan_id)
                    .and_then(|l| loans::payment_due(l, now).ok())
                    .and_then(|due| due.total().ok())
                    .unwrap_or(Amount::ZERO);
                let max_amount = max_amount.maximum(due);
                (borrower_of(state, loan_id), Action::RepayLoan(RepayLoan { loan_id, max_amount }))
            }
            Op::PrepayLoan { loan, principal, max_amount } => {
                let loan_id = loan_id(state, loan, |l| l.status == LoanStatus::Active);
                let balance = state.loans.loans.get(&loan_id).map_or(Amount::ZERO, |l| l.balance);
                let principal = principal.resolve(balance);
                let max_amount = match max_amount {
                    Limit::Impossible => Amount::ZERO,
                    _ => Amount::MAX,
                };
                let action = Action::PrepayLoan(PrepayLoan { loan_id, principal, max_amount });
                (borrower_of(state, loan_id), action)
            }
            Op::PledgeReceipts { loan, receipt, twice } => {
                let loan_id = loan_id(state, loan, |l| l.status == LoanStatus::Active);
                let borrower = borrower_of(state, loan_id);
                let receipt_id =
                    receipt_id(state, receipt, |r| r.owner == borrower && pledgeable(state, r));
                let receipt_ids =
                    if twice { vec![receipt_id, receipt_id] } else { vec![receipt_id] };
                (borrower, Action::PledgeReceipts(PledgeReceipts { loan_id, receipt_ids }))
            }
            Op::RemarkLoans { first, max_loans } => {
                let next = *state.loans.next_loan_id.get();
                let first_loan_id = LoanId(u64::from(first) % (next + 1));
                (
                    participant(self.sender),
                    Action::RemarkLoans(RemarkLoans { first_loan_id, max_loans }),
                )
            }
            Op::TriggerDefault { loan } => {
                let loan_id = loan_id(state, loan, |l| l.is_default_due(now));
                (participant(self.sender), Action::TriggerDefault(TriggerDefault { loan_id }))
            }
            Op::ForecloseLoan { loan, agent } => {
                // Not yet foreclosed, or past its agent's sale deadline (a hand-over).
                let loan_id = loan_id(state, loan, |l| {
                    l.status == LoanStatus::Defaulted
                        && l.sale_deadline_at.is_none_or(|deadline| now >= deadline)
                });
                let liquidation_agent = match agent % 8 {
                    0..=5 => LIQUIDATION_AGENT,
                    6 => RIVAL,
                    _ => BORROWER,
                };
                // A hand-over after a sale deadline is the admin's; the curator tries now and
                // then (refused).
                let handed_over =
                    state.loans.loans.get(&loan_id).is_some_and(|l| l.sale_deadline_at.is_some());
                let sender = if handed_over && agent / 8 % 4 != 0 {
                    OPS
                } else {
                    curator_of(state, silo_of(state, loan_id))
                };
                (sender, Action::ForecloseLoan(ForecloseLoan { loan_id, liquidation_agent }))
            }
            Op::ReportSale { receipt, gross_bps, costs_bps } => {
                let receipt_id = receipt_id(state, receipt, |r| {
                    r.status == ReceiptStatus::Foreclosed
                        && foreclosed_loan(state, r.id)
                            .is_some_and(|loan| loan.liquidation_agent.is_some())
                });
                let loan = foreclosed_loan(state, receipt_id);
                let agent =
                    loan.as_ref().and_then(|l| l.liquidation_agent).unwrap_or(LIQUIDATION_AGENT);
                // Gross proceeds: a share of what the loan's tranches are still owed,
                // spread over its unsold receipts (above 100%, the borrower gets a surplus).
                let owed = loan.as_ref().map_or(Amount::ZERO, |l| {
                    let unsold = l
                        .receipts
                        .iter()
                        .filter(|id| {
                            state
                                .receipts
                                .receipts
                                .get(id)
                                .is_some_and(|r| r.status == ReceiptStatus::Foreclosed)
                        })
                        .count();
                    let claims = l.senior.principal.0
                        + l.senior.interest_due.0
                        + l.junior.principal.0
                        + l.junior.interest_due.0;
                    Amount(claims / unsold.max(1) as u128)
                });
                let gross_proceeds = bps_of(owed, gross_bps);
                let report = SaleReport {
                    gross_proceeds,
                    itad_commission: bps_of(gross_proceeds, costs_bps),
                    logistics_costs: Amount(u128::from(costs_bps % 7)),
                    ..SaleReport::default()
                };
                (agent, Action::ReportSale(ReportSale { receipt_id, report }))
            }
            Op::PayInsuranceClaim { receipt, amount_bps } => {
                let receipt_id =
                    receipt_id(state, receipt, |r| r.status == ReceiptStatus::Foreclosed);
                let policy =
                    state.receipts.receipts.get(&receipt_id).and_then(|r| r.policy.clone());
                let insurer = policy.as_ref().map_or(INSURER, |p| p.insurer);
                let coverage = policy.map_or(whole(1_000), |p| p.coverage);
                let amount = bps_of(coverage, amount_bps);
                (insurer, Action::PayInsuranceClaim(PayInsuranceClaim { receipt_id, amount }))
            }
            Op::PayCasualtyClaim { receipt } => {
                let receipt_id = receipt_id(state, receipt, |r| r.status == ReceiptStatus::Pledged);
                let insurer = state
                    .receipts
                    .receipts
                    .get(&receipt_id)
                    .and_then(|r| r.policy.as_ref().map(|p| p.insurer))
                    .unwrap_or(INSURER);
                (insurer, Action::PayCasualtyClaim(PayCasualtyClaim { receipt_id }))
            }
            Op::DecideHeldSale { receipt, approve } => {
                let receipt_id =
                    receipt_id(state, receipt, |r| state.loans.held_sales.contains_key(&r.id));
                (OPS, Action::DecideHeldSale(DecideHeldSale { receipt_id, approve }))
            }
            Op::WriteOffReceipt { receipt } => {
                // Mostly a foreclosed receipt whose loan's sale deadline has passed.
                let receipt_id = receipt_id(state, receipt, |r| {
                    r.status == ReceiptStatus::Foreclosed
                        && r.loan.and_then(|id| state.loans.loans.get(&id)).is_some_and(|l| {
                            l.sale_deadline_at.is_some_and(|deadline| now >= deadline)
                        })
                });
                (OPS, Action::WriteOffReceipt(WriteOffReceipt { receipt_id }))
            }
            Op::ClaimLoanSurplus { loan } => {
                let loan_id = loan_id(state, loan, |l| !l.surplus_held.is_zero());
                (
                    borrower_of(state, loan_id),
                    Action::ClaimLoanSurplus(ClaimLoanSurplus { loan_id }),
                )
            }
            Op::SetLoanCovenants { silo, periods, interval } => {
                let silo_id = silo_id(state, silo);
                let intervals = [0, 30 * DAY, 90 * DAY, 90 * DAY, DAY - 1];
                let report_interval_secs = intervals[usize::from(interval) % intervals.len()];
                let action = Action::SetLoanCovenants(SetLoanCovenants {
                    silo_id,
                    debt_service_reserve_periods: u32::from(periods),
                    report_interval_secs,
                });
                (curator_of(state, silo_id), action)
            }
            Op::FundDebtServiceReserve { loan, amount } => {
                let loan_id = loan_id(state, loan, |l| {
                    l.status == LoanStatus::Active && l.reserve.balance < l.reserve.required
                });
                let lacking =
                    state.loans.loans.get(&loan_id).map_or(Amount::ZERO, |l| {
                        l.reserve.required.saturating_sub(l.reserve.balance)
                    });
                let amount = amount.resolve(lacking);
                let action =
                    Action::FundDebtServiceReserve(FundDebtServiceReserve { loan_id, amount });
                (borrower_of(state, loan_id), action)
            }
            Op::DrawDebtServiceReserve { loan } => {
                let loan_id = loan_id(state, loan, |l| {
                    l.status == LoanStatus::Active
                        && l.missed_periods(now) > 0
                        && !l.reserve.balance.is_zero()
                });
                let action = Action::DrawDebtServiceReserve(DrawDebtServiceReserve { loan_id });
                (participant(self.sender), action)
            }
            Op::PostBorrowerReport { loan, valid } => {
                let loan_id = loan_id(state, loan, |l| l.status == LoanStatus::Active);
                let document_hash = if valid { B256::repeat_byte(0x4e) } else { B256::ZERO };
                let action =
                    Action::PostBorrowerReport(PostBorrowerReport { loan_id, document_hash });
                (borrower_of(state, loan_id), action)
            }
            Op::PostPresenceAttestation { receipt, report } => {
                let receipt_id = receipt_id(state, receipt, |r| !is_closed(r));
                let found = state.receipts.receipts.get(&receipt_id);
                let newest = state.receipts.presence.get(&receipt_id).map(|a| a.as_of);
                let (quantity, serials_hash, facility) = found.map_or_else(
                    || (1, B256::ZERO, "Hillsboro OR".to_string()),
                    |r| {
                        let d = &r.description;
                        (d.quantity, d.serials_hash, d.facility.clone())
                    },
                );
                let (units_seen, as_of) = match report % 8 {
                    5 => (quantity.saturating_sub(1), now),
                    6 => (quantity, newest.unwrap_or(now)),
                    7 => (quantity, now + 1),
                    _ => (quantity, now),
                };
                let uptime_bps = if report % 8 == 4 { Bps(10_001) } else { Bps(9_900) };
                let action = Action::PostPresenceAttestation(PostPresenceAttestation {
                    receipt_id,
                    units_seen,
                    serials_hash,
                    facility,
                    uptime_bps,
                    as_of,
                });
                // Now and then the receipt's owner attests its own hardware (BORROWER_TWO
                // holds the monitor role too).
                let owner = found.map(|r| r.owner);
                let monitor = match owner {
                    Some(owner) if report >= 240 => owner,
                    _ => APPRAISER,
                };
                (monitor, action)
            }
            Op::SetPresenceLimit { class, limit } => {
                let class = CLASSES[usize::from(class) % 3];
                let max_age_secs = match limit % 4 {
                    0 => 0,
                    1 => 30 * DAY,
                    2 => 7 * DAY,
                    _ => 60,
                };
                (OPS, Action::SetPresenceLimit(SetPresenceLimit { class, max_age_secs }))
            }
            Op::SetResidualFloor { receipt, floor_bps } => {
                // Usually collateral: a floor matters once its loan defaults.
                let receipt_id = receipt_id(state, receipt, |r| {
                    r.status == ReceiptStatus::Pledged
                        && r.policy.as_ref().is_some_and(|p| now < p.expires_at)
                });
                let policy =
                    state.receipts.receipts.get(&receipt_id).and_then(|r| r.policy.clone());
                let insurer = policy.as_ref().map_or(INSURER, |p| p.insurer);
                let coverage = policy.map_or(Amount::ZERO, |p| p.coverage);
                let floor_value = bps_of(coverage, floor_bps);
                (insurer, Action::SetResidualFloor(SetResidualFloor { receipt_id, floor_value }))
            }
            Op::PayResidualClaim { receipt } => {
                let receipt_id = claimed_receipt(state, receipt);
                let insurer =
                    state.loans.residual_claims.get(&receipt_id).map_or(INSURER, |c| c.insurer);
                (insurer, Action::PayResidualClaim(PayResidualClaim { receipt_id }))
            }
            Op::WriteOffResidualClaim { receipt } => {
                let receipt_id = claimed_receipt(state, receipt);
                (OPS, Action::WriteOffResidualClaim(WriteOffResidualClaim { receipt_id }))
            }
            _ => return None,
        };
        Some(Transaction { sender: self.party(proper), action })
    }
}
