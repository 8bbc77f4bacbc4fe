//! Applying compiled plans to records.

use std::cmp::Ordering;

use cartograph_model::{PropertyMap, PropertyValue};

use super::eval::{self, Out};
use super::schema::Value;
use super::{
    Applied, CompiledField, Context, FieldError, FieldErrorReason, Input, OnNull, Plan, Subject,
};

impl Plan {
    /// Maps one record.
    pub fn apply(&self, input: &Input<'_>, cx: &Context<'_>) -> Applied {
        let mut out = Applied::default();
        self.apply_into(input, cx, &mut out.properties, &mut out.errors);
        out
    }

    /// Maps one record into existing buffers (properties are inserted, errors appended).
    /// Properties already in the map are overwritten in place, keeping their keys.
    pub fn apply_into(
        &self,
        input: &Input<'_>,
        cx: &Context<'_>,
        properties: &mut PropertyMap,
        errors: &mut Vec<FieldError>,
    ) {
        if properties.is_empty() {
            // Bulk-building from sorted pairs is much cheaper than one insert per field.
            let mut staged = Vec::with_capacity(self.fields.len());
            self.run(input, *cx, errors, |f, out| {
                staged.push((f.target.clone(), out.into_value()));
            });
            *properties = staged.into_iter().collect();
        } else {
            self.merge(input, *cx, properties, errors);
        }
    }

    /// Maps one record into `out`, replacing what it held but reusing its allocations:
    /// properties set again keep their keys and text buffers, so applying one plan to many
    /// records in turn allocates little. The result equals `*out = plan.apply(input, cx)`.
    ///
    /// ```
    /// use cartograph_core::mapping::{Applied, Context, Input, MappingFile};
    /// use cartograph_core::metrics::sample;
    ///
    /// let file = MappingFile::from_toml(r#"
    /// crm = "examplecrm"
    /// [[properties]]
    /// object = "deal"
    /// name = "total"
    /// label = "Total"
    /// type = "number"
    /// [[mappings]]
    /// name = "sale"
    /// object = "deal"
    /// subject = "order"
    /// fields = [{ target = "total", source = "order.total | amount | decimal(2)" }]
    /// "#)?;
    /// let deal = file.compile("sale", &[])?;
    /// let mut out = Applied::default();
    /// for order in &sample::orders(10, 5, 1) {
    ///     deal.apply_reusing(&Input::order(order), &Context::default(), &mut out);
    ///     assert_eq!(out, deal.apply(&Input::order(order), &Context::default()));
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply_reusing(&self, input: &Input<'_>, cx: &Context<'_>, out: &mut Applied) {
        out.errors.clear();
        if !self.has_subject(input) {
            out.properties.clear();
        }
        let stale = self.merge(input, *cx, &mut out.properties, &mut out.errors);
        for key in stale {
            out.properties.remove(&key);
        }
    }

    /// Writes this record's properties over `properties`, walking the plan's sorted targets
    /// and the map's sorted keys together. Returns the keys this record did not set.
    fn merge(
        &self,
        input: &Input<'_>,
        cx: Context<'_>,
        properties: &mut PropertyMap,
        errors: &mut Vec<FieldError>,
    ) -> Vec<String> {
        let mut stale = Vec::new();
        let mut missing: Vec<(String, PropertyValue)> = Vec::new();
        let mut entries = properties.iter_mut().peekable();
        self.run(input, cx, errors, |f, out| {
            let target = f.target.as_str();
            loop {
                // Equal keys are the usual case when a map is reused: test that first.
                match entries.peek().map(|(k, _)| {
                    if k.as_str() == target {
                        Ordering::Equal
                    } else {
                        k.as_str().cmp(target)
                    }
                }) {
                    Some(Ordering::Less) => {
                        if let Some((key, _)) = entries.next() {
                            stale.push(key.clone());
                        }
                    }
                    Some(Ordering::Equal) => {
                        if let Some((_, slot)) = entries.next() {
                            out.assign(slot);
                        }
                        return;
                    }
                    _ => {
                        missing.push((f.target.clone(), out.into_value()));
                        return;
                    }
                }
            }
        });
        stale.extend(entries.map(|(k, _)| k.clone()));
        if !missing.is_empty() {
            properties.extend(missing);
        }
        stale
    }

    /// Evaluates every field, handing each produced value to `emit` in target order and
    /// appending field errors.
    fn run<'a>(
        &'a self,
        input: &Input<'a>,
        cx: Context<'a>,
        errors: &mut Vec<FieldError>,
        mut emit: impl FnMut(&'a CompiledField, Out<'a>),
    ) {
        let record = || self.record_name(input);
        if !self.has_subject(input) {
            errors.push(FieldError {
                record: record(),
                field: "*".to_owned(),
                reason: FieldErrorReason::MissingSubject(self.subject.name()),
            });
            return;
        }
        for f in &self.fields {
            if let Some(when) = &f.when {
                match eval::eval(when, input, cx.rates).map(eval::concrete) {
                    Ok(Value::Bool(true)) => {}
                    Ok(_) => continue,
                    Err(reason) => {
                        errors.push(FieldError {
                            record: record(),
                            field: f.target.clone(),
                            reason: *reason,
                        });
                        continue;
                    }
                }
            }
            let value = eval::eval(&f.expr, input, cx.rates)
                .and_then(|v| eval::finalize(v, &f.definition, !f.options_checked));
            match value {
                Ok(Some(v)) => emit(f, v),
                Ok(None) if f.required => errors.push(FieldError {
                    record: record(),
                    field: f.target.clone(),
                    reason: FieldErrorReason::Missing,
                }),
                Ok(None) => {
                    if f.on_null == OnNull::Clear {
                        emit(f, Out::Value(PropertyValue::Null));
                    }
                }
                Err(reason) => errors.push(FieldError {
                    record: record(),
                    field: f.target.clone(),
                    reason: *reason,
                }),
            }
        }
    }

    fn has_subject(&self, input: &Input<'_>) -> bool {
        match self.subject {
            Subject::Customer => input.customer.is_some(),
            Subject::Order => input.order.is_some(),
            Subject::LineItem => input.line_item.is_some(),
            Subject::Product => input.product.is_some(),
            Subject::Cart => input.cart.is_some(),
            Subject::Refund => input.refund.is_some(),
        }
    }

    fn record_name(&self, input: &Input<'_>) -> String {
        match self.subject {
            Subject::Customer => input.customer.map(|c| c.source.to_string()),
            Subject::Order => input.order.map(|o| o.source.to_string()),
            Subject::LineItem => input.line_item.map(|l| match input.order {
                Some(o) => format!("{}/line/{}", o.source, l.id),
                None => format!("line/{}", l.id),
            }),
            Subject::Product => input.product.map(|p| p.source.to_string()),
            Subject::Cart => input.cart.map(|c| c.source.to_string()),
            Subject::Refund => input.refund.map(|r| r.source.to_string()),
        }
        .unwrap_or_else(|| format!("<no {}>", self.subject.name()))
    }
}
